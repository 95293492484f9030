# Reference values for toolkit.survival.competing_risks: the Aalen-Johansen cumulative
# incidence (R survfit, multi-state), cmprsk's cuminc estimate and variance, Gray's test, and
# the exact Poisson CI of an incidence rate.
#
#   Rscript tests/survival/r/competing_risks.R [DATA_DIR] [REFERENCE_FILE]
#
# Defaults: tests/survival/data and tests/survival/reference/competing_risks.json (run from the
# repository root). Writes three CSV files and reads each back, so Python and R see the same
# numbers:
#   competing_edge.csv  small hand-made cases (ties between causes, censorings tied with
#                       events, an event at the last time, three causes, time 0);
#   mgus2.csv           survival::mgus2 with etime/event as in the survival vignette
#                       "compete" (0 censored, 1 progression to PCM, 2 death before it);
#   competing_sim.csv   simulated: three groups, two strata, causes 1-3, times rounded to
#                       half months (many ties), fixed seed.
# For each analysis and cause: survfit(Surv(time, factor(status)) ~ 1, conf.type = ct) at
# every time (pstate, std.err - the infinitesimal-jackknife variance - and lower/upper for each
# conf.type) and summary(fit, times, extend = TRUE) at chosen times; cmprsk::cuminc's est and
# var (its corners) and timepoints(); survfit_confint() on cuminc's variance; per group the same;
# cuminc(...)$Tests (Gray's test) with rho = 0 and 1, and with strata. Then poisson.test's
# conf.int for some (events, person-time). R's NA and NaN are written as null. Output is
# deterministic for the same R, survival and cmprsk versions; needs base R, survival, cmprsk.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[1] else "tests/survival/data"
out_file <- if (length(args) >= 2) args[2] else "tests/survival/reference/competing_risks.json"
dir.create(data_dir, recursive = TRUE, showWarnings = FALSE)
dir.create(dirname(out_file), recursive = TRUE, showWarnings = FALSE)

CONF_TYPES <- c("log-log", "log", "plain", "logit", "arcsin")

# ---- a small JSON writer (as km_logrank_rmst.R: length-1 vectors are scalars unless I()) ----

json_number <- function(x) {
  ifelse(is.na(x) | !is.finite(x), "null", sprintf("%.17g", x))
}

to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      keys <- names(x)
      items <- vapply(seq_along(x), function(i) {
        paste0("\"", keys[i], "\": ", to_json(x[[i]]))
      }, character(1))
      return(paste0("{", paste(items, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, character(1)), collapse = ", "), "]"))
  }
  if (is.factor(x)) x <- as.character(x)
  if (is.character(x)) {
    vals <- ifelse(is.na(x), "null", paste0("\"", x, "\""))
  } else if (is.logical(x)) {
    vals <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    vals <- json_number(as.numeric(x))
  }
  if (length(x) == 1 && !inherits(x, "AsIs")) return(vals)
  paste0("[", paste(vals, collapse = ", "), "]")
}

arr <- function(x) I(as.vector(unname(x)))

# ---- datasets ------------------------------------------------------------------------------

export <- function(frame, name) {
  path <- file.path(data_dir, paste0(name, ".csv"))
  write.csv(frame, path, row.names = FALSE)
  read.csv(path, stringsAsFactors = FALSE)
}

edge_cases <- rbind(
  # t = 2: causes 1 and 2 and a censoring tied; t = 4: two of cause 1 and a censoring tied;
  # the last time 7 has a cause-1 event and a censoring (the curve ends above S = 0)
  data.frame(case = "ties", time = c(1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 6, 6, 7, 7),
             status = c(1, 1, 2, 0, 2, 2, 1, 1, 0, 0, 1, 2, 1, 0)),
  # the last time empties the risk set with events of both causes (S = 0 at the end)
  data.frame(case = "last_event", time = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 8),
             status = c(1, 2, 0, 1, 1, 2, 0, 1, 0, 2, 1, 0, 1, 2, 1)),
  # three causes, with codes 1, 2 and 3
  data.frame(case = "three_causes", time = c(1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 9),
             status = c(3, 1, 3, 2, 1, 0, 3, 2, 1, 0, 3, 1)),
  # events at time 0
  data.frame(case = "time_zero", time = c(0, 0, 1, 2, 2, 3),
             status = c(1, 0, 2, 1, 0, 1))
)

mgus <- survival::mgus2
mgus_frame <- data.frame(
  id = mgus$id, age = mgus$age, sex = as.character(mgus$sex),
  etime = with(mgus, ifelse(pstat == 0, futime, ptime)),
  event = with(mgus, ifelse(pstat == 0, 2 * death, 1))
)

simulate <- function(n) {
  set.seed(20240611)
  group <- sample(c("A", "B", "C"), n, replace = TRUE)
  stratum <- sample(c("s1", "s2"), n, replace = TRUE)
  rate1 <- 0.02 * ifelse(group == "B", 1.6, ifelse(group == "C", 2.4, 1))
  t1 <- rexp(n, rate1)
  t2 <- rexp(n, 0.015 * ifelse(stratum == "s2", 2, 1))
  t3 <- rexp(n, 0.004)
  cens <- runif(n, 6, 48)
  first <- pmin(t1, t2, t3, cens)
  status <- ifelse(first == cens, 0, ifelse(first == t1, 1, ifelse(first == t2, 2, 3)))
  data.frame(id = seq_len(n), group = group, stratum = stratum,
             time = ceiling(first * 2) / 2, status = status)
}

datasets <- list(
  competing_edge = export(edge_cases, "competing_edge"),
  mgus2 = export(mgus_frame, "mgus2"),
  competing_sim = export(simulate(400), "competing_sim")
)

# name, dataset, case (NA: all rows), time, status, group (NA: none), strata (NA), causes, times
ANALYSES <- list(
  list("edge_ties", "competing_edge", "ties", "time", "status", NA, NA, c(1, 2),
       c(0, 0.5, 2, 2.5, 4, 7, 8)),
  list("edge_last_event", "competing_edge", "last_event", "time", "status", NA, NA, c(1, 2),
       c(0.5, 1, 3.5, 8, 10)),
  list("edge_three_causes", "competing_edge", "three_causes", "time", "status", NA, NA,
       c(1, 3), c(1, 4, 8.5, 9)),
  list("edge_time_zero", "competing_edge", "time_zero", "time", "status", NA, NA, c(1, 2),
       c(0, 0.5, 3, 4)),
  list("mgus2_sex", "mgus2", NA, "etime", "event", "sex", NA, c(1, 2),
       c(6, 12, 60, 120, 240, 424)),
  list("sim_group", "competing_sim", NA, "time", "status", "group", "stratum", c(1, 2, 3),
       c(6, 12, 24, 36))
)

# ---- references ----------------------------------------------------------------------------

confint_all <- function(p, se, conf_types) {
  lapply(setNames(conf_types, conf_types), function(ct) {
    ci <- survival:::survfit_confint(p, se, logse = FALSE, conf.type = ct, conf.int = 0.95)
    list(lower = arr(ci$lower), upper = arr(ci$upper))
  })
}

# survfit's arcsin limits lose their matrix shape (pmax(0, matrix) keeps the attributes of its
# first argument, a scalar): restore it, column-major as R stores it
state_column <- function(x, rows, k) matrix(x, nrow = rows)[, k]

survfit_reference <- function(time, status, cause, times, conf_types, curves) {
  fits <- lapply(setNames(conf_types, conf_types), function(ct) {
    survfit(Surv(time, factor(status)) ~ 1, conf.type = ct)
  })
  fit <- fits[[1]]
  k <- which(fit$states == as.character(cause))
  s <- summary(fit, times = times, extend = TRUE)
  out <- list(
    time = arr(fit$time), n_risk = arr(fit$n.risk[, 1]), n_event = arr(fit$n.event[, k]),
    n_censor = arr(fit$n.censor), pstate = arr(fit$pstate[, k]),
    survival = arr(fit$pstate[, 1]), std_err = arr(fit$std.err[, k]),
    ci = lapply(fits, function(f) {
      rows <- length(f$time)
      list(lower = arr(state_column(f$lower, rows, k)),
           upper = arr(state_column(f$upper, rows, k)))
    }),
    at = list(
      time = arr(s$time), pstate = arr(s$pstate[, k]), std_err = arr(s$std.err[, k]),
      n_risk = arr(s$n.risk[, 1]),
      # summary() keeps only the first column of arcsin limits (the shape lost above)
      ci = lapply(fits[conf_types != "arcsin"], function(f) {
        sf <- summary(f, times = times, extend = TRUE)
        list(lower = arr(sf$lower[, k]), upper = arr(sf$upper[, k]))
      })
    )
  )
  if (curves) out else out["at"]
}

cuminc_reference <- function(time, status, cause, times, conf_types, curves) {
  fit <- cuminc(time, status, cencode = 0)
  name <- paste("1", cause)
  if (!(name %in% names(fit))) return(NULL)
  curve <- fit[[name]]
  inside <- times[times <= max(time)]
  tp <- timepoints(fit, inside)
  row <- which(rownames(tp$est) == name)
  out <- list(
    time = arr(curve$time), est = arr(curve$est), var = arr(curve$var),
    ci = confint_all(curve$est, sqrt(curve$var), conf_types),
    at = list(time = arr(inside), est = arr(tp$est[row, ]), var = arr(tp$var[row, ]))
  )
  if (curves) out else out["at"]
}

# curves = FALSE keeps only the values at the chosen times (the file stays small)
fit_reference <- function(time, status, cause, times, conf_types, curves = TRUE) {
  list(
    n = length(time), events = sum(status == cause),
    survfit = survfit_reference(time, status, cause, times, conf_types, curves),
    cuminc = cuminc_reference(time, status, cause, times, conf_types, curves)
  )
}

gray_reference <- function(time, status, group, strata, rho) {
  fit <- if (is.null(strata)) {
    cuminc(time, status, group, rho = rho, cencode = 0)
  } else {
    cuminc(time, status, group, strata, rho = rho, cencode = 0)
  }
  tests <- fit$Tests
  list(
    rho = rho, stratified = !is.null(strata), causes = arr(as.numeric(rownames(tests))),
    stat = arr(tests[, "stat"]), pv = arr(tests[, "pv"]), df = arr(tests[, "df"])
  )
}

analysis_reference <- function(spec) {
  names(spec) <- c("name", "dataset", "case", "time", "status", "group", "strata", "causes",
                   "times")
  # every transform on the small cases (they are functions of the estimate and its standard
  # error only), the default log-log on the larger ones
  conf_types <- if (spec$dataset == "competing_edge") CONF_TYPES else CONF_TYPES[1]
  d <- datasets[[spec$dataset]]
  if (!is.na(spec$case)) d <- d[d$case == spec$case, ]
  time <- d[[spec$time]]
  status <- d[[spec$status]]
  out <- list(
    name = spec$name, dataset = spec$dataset, case = spec$case, time_column = spec$time,
    status_column = spec$status, group_column = spec$group, strata_column = spec$strata,
    causes = arr(spec$causes), times = arr(spec$times), conf_types = arr(conf_types)
  )
  out$fits <- lapply(setNames(spec$causes, spec$causes), function(cause) {
    fits <- list(overall = fit_reference(time, status, cause, spec$times, conf_types))
    if (!is.na(spec$group)) {
      group <- as.character(d[[spec$group]])
      levels <- sort(unique(group))
      fits$groups <- lapply(setNames(levels, levels), function(g) {
        keep <- group == g
        fit_reference(time[keep], status[keep], cause, spec$times, conf_types, curves = FALSE)
      })
    }
    fits
  })
  if (!is.na(spec$group)) {
    group <- as.character(d[[spec$group]])
    strata <- if (is.na(spec$strata)) NULL else as.character(d[[spec$strata]])
    out$gray <- list(
      gray_reference(time, status, group, NULL, 0),
      gray_reference(time, status, group, NULL, 1)
    )
    if (!is.null(strata)) {
      out$gray <- c(out$gray, list(gray_reference(time, status, group, strata, 0)))
    }
  }
  out
}

poisson_reference <- function(x, person_time, conf_level) {
  test <- poisson.test(x, person_time, conf.level = conf_level)
  list(events = x, person_time = person_time, conf_level = conf_level,
       rate = unname(test$estimate), lower = test$conf.int[1], upper = test$conf.int[2])
}

POISSON <- list(
  c(0, 10, 0.95), c(1, 2.5, 0.95), c(7, 123.4, 0.95), c(25, 1000.5, 0.95),
  c(150, 3000, 0.95), c(3, 45.25, 0.9), c(12, 60, 0.99)
)

reference <- list(
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survival_version = as.character(packageVersion("survival")),
  cmprsk_version = as.character(packageVersion("cmprsk")),
  script = "tests/survival/r/competing_risks.R",
  analyses = lapply(ANALYSES, analysis_reference),
  poisson = lapply(POISSON, function(p) poisson_reference(p[1], p[2], p[3]))
)
writeLines(to_json(reference), out_file, useBytes = TRUE)
