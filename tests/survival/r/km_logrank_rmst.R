# Reference values for toolkit.survival: Kaplan-Meier, log-rank, RMST, reverse-KM follow-up.
#
#   Rscript tests/survival/r/km_logrank_rmst.R [DATA_DIR] [REFERENCE_DIR]
#
# Defaults: tests/survival/data and tests/survival/reference (run from the repository root).
# Writes the datasets of R's survival package as CSV (lung, veteran, ovarian, aml) plus the small
# hand-made edge cases (edge.csv), reads each CSV back, and computes every reference from the
# data as read back, so Python and R see the same numbers. Output is deterministic: the same R
# and survival versions give the same bytes. Needs only base R and survival (no jsonlite).

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[1] else "tests/survival/data"
ref_dir <- if (length(args) >= 2) args[2] else "tests/survival/reference"
dir.create(data_dir, recursive = TRUE, showWarnings = FALSE)
dir.create(ref_dir, recursive = TRUE, showWarnings = FALSE)

CONF_TYPES <- c("log-log", "log", "plain")
PROBS <- c(0.25, 0.5, 0.75)

# ---- a small JSON writer (length-1 vectors are scalars unless wrapped in I()) ----------------

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

write_json <- function(x, path) {
  writeLines(to_json(x), path, useBytes = TRUE)
}

# ---- datasets ------------------------------------------------------------------------------

export <- function(frame, name) {
  path <- file.path(data_dir, paste0(name, ".csv"))
  write.csv(frame, path, row.names = FALSE)
  read.csv(path, stringsAsFactors = FALSE)
}

lung_data <- survival::lung
lung_data$event <- lung_data$status - 1L  # status 1 = censored, 2 = dead

edge_cases <- rbind(
  # ties: events and censorings at the same times (censored at t are at risk at t)
  data.frame(case = "ties", time = c(1, 1, 2, 2, 2, 3, 4, 4, 5, 6),
             event = c(1, 0, 1, 1, 0, 0, 1, 1, 0, 1), group = rep(c("a", "b"), 5)),
  # S(t) = 0.5 exactly from t = 3 until the next event at t = 5: median (3 + 5) / 2
  data.frame(case = "half_interval", time = c(1, 2, 3, 4, 5, 6),
             event = c(1, 1, 1, 0, 1, 0), group = "a"),
  # S(t) = 0.5 exactly from t = 2 to the end (t = 4): quantile() gives (2 + 4) / 2
  data.frame(case = "half_last", time = c(1, 2, 3, 4), event = c(1, 1, 0, 0), group = "a"),
  data.frame(case = "all_censored", time = c(2, 3, 5), event = 0, group = "a"),
  data.frame(case = "single", time = 5, event = 1, group = "a"),
  data.frame(case = "single_censored", time = 5, event = 0, group = "a"),
  data.frame(case = "time_zero", time = c(0, 0, 1, 2, 3, 3),
             event = c(1, 0, 1, 1, 0, 1), group = "a"),
  # one group without events: its median is not reached
  data.frame(case = "no_events_group", time = c(1, 2, 3, 4, 2, 3, 5),
             event = c(1, 1, 1, 0, 0, 0, 0), group = c("a", "a", "a", "a", "b", "b", "b"))
)

datasets <- list(
  lung = export(lung_data, "lung"),
  veteran = export(survival::veteran, "veteran"),
  ovarian = export(survival::ovarian, "ovarian"),
  aml = export(survival::aml, "aml"),
  edge = export(edge_cases, "edge")
)

# name, dataset, time, event, group (NA: none), times for S(t), tau for RMST, edge case (NA: all)
ANALYSES <- list(
  list("lung_sex", "lung", "time", "event", "sex", c(90, 180, 365, 730), 730, NA),
  list("veteran_trt", "veteran", "time", "status", "trt", c(30, 90, 180, 365), 365, NA),
  list("veteran_celltype", "veteran", "time", "status", "celltype", c(30, 90, 180), 180, NA),
  list("ovarian_rx", "ovarian", "futime", "fustat", "rx", c(365, 730, 1000), 730, NA),
  list("aml_x", "aml", "time", "status", "x", c(12, 24, 36), 40, NA),
  list("edge_ties", "edge", "time", "event", "group", c(0, 1, 2, 2.5, 6), 5, "ties"),
  list("edge_half_interval", "edge", "time", "event", NA, c(3, 4, 5), 6, "half_interval"),
  list("edge_half_last", "edge", "time", "event", NA, c(2, 3, 4), 4, "half_last"),
  list("edge_all_censored", "edge", "time", "event", NA, c(1, 5), 5, "all_censored"),
  list("edge_single", "edge", "time", "event", NA, c(4, 5), 5, "single"),
  list("edge_single_censored", "edge", "time", "event", NA, c(4, 5), 5, "single_censored"),
  list("edge_time_zero", "edge", "time", "event", NA, c(0, 1, 3), 3, "time_zero"),
  list("edge_no_events_group", "edge", "time", "event", "group", c(1, 3, 4), 4,
       "no_events_group")
)

# ---- references ----------------------------------------------------------------------------

fit_reference <- function(time, event, conf_type, times, tau) {
  d <- data.frame(time = time, event = event)
  fit <- survfit(Surv(time, event) ~ 1, data = d, conf.type = conf_type)
  table <- summary(fit, rmean = tau)$table
  q <- quantile(fit, PROBS)
  at <- times[times <= max(time)]
  s <- summary(fit, times = at)
  list(
    n = length(time),
    events = sum(event),
    curve = list(
      time = arr(fit$time), n_risk = arr(fit$n.risk), n_event = arr(fit$n.event),
      n_censor = arr(fit$n.censor), surv = arr(fit$surv), std_err = arr(fit$std.err),
      lower = arr(fit$lower), upper = arr(fit$upper)
    ),
    print = list(
      median = unname(table["median"]), lower = unname(table["0.95LCL"]),
      upper = unname(table["0.95UCL"])
    ),
    quantile = list(
      probs = arr(PROBS), time = arr(q$quantile), lower = arr(q$lower), upper = arr(q$upper)
    ),
    at = list(
      time = arr(s$time), surv = arr(s$surv), lower = arr(s$lower), upper = arr(s$upper),
      n_risk = arr(s$n.risk)
    ),
    rmean = list(
      tau = tau, rmean = unname(table["rmean"]), se = unname(table["se(rmean)"])
    )
  )
}

logrank_reference <- function(time, event, group) {
  sd <- survdiff(Surv(time, event) ~ group)
  labels <- sub("^group=", "", names(sd$n))
  df <- sum(sd$exp > 0) - 1
  list(
    groups = arr(labels), n = arr(as.vector(sd$n)), observed = arr(sd$obs),
    expected = arr(sd$exp), chisq = sd$chisq, df = df, p = sd$pvalue
  )
}

pairwise_reference <- function(time, event, group) {
  levels <- sort(unique(group))
  pairs <- combn(levels, 2, simplify = FALSE)
  tests <- lapply(pairs, function(pair) {
    keep <- group %in% pair
    sd <- survdiff(Surv(time[keep], event[keep]) ~ group[keep])
    list(groups = arr(as.character(pair)), chisq = sd$chisq, p = sd$pvalue)
  })
  adjusted <- p.adjust(vapply(tests, function(x) x$p, numeric(1)), method = "holm")
  lapply(seq_along(tests), function(i) c(tests[[i]], list(p_holm = adjusted[i])))
}

rmst_differences <- function(by_group, reference) {
  z <- qnorm(0.975)
  ref <- by_group[[reference]]$rmean
  others <- setdiff(names(by_group), reference)
  lapply(others, function(g) {
    r <- by_group[[g]]$rmean
    diff <- r$rmean - ref$rmean
    se <- sqrt(r$se^2 + ref$se^2)
    list(group = g, reference = reference, difference = diff, se = se,
         lower = diff - z * se, upper = diff + z * se, p = 2 * pnorm(-abs(diff) / se))
  })
}

followup_reference <- function(time, event) {
  lapply(setNames(CONF_TYPES, CONF_TYPES), function(ct) {
    fit <- survfit(Surv(time, 1 - event) ~ 1, conf.type = ct)
    q <- quantile(fit, 0.5)
    list(median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
  })
}

analysis_reference <- function(spec) {
  names(spec) <- c("name", "dataset", "time", "event", "group", "times", "tau", "case")
  d <- datasets[[spec$dataset]]
  if (!is.na(spec$case)) d <- d[d$case == spec$case, ]
  time <- d[[spec$time]]
  event <- d[[spec$event]]
  out <- list(
    name = spec$name, dataset = spec$dataset, case = spec$case, time_column = spec$time,
    event_column = spec$event, group_column = spec$group, times = arr(spec$times),
    tau = spec$tau
  )
  out$fits <- lapply(setNames(CONF_TYPES, CONF_TYPES), function(ct) {
    fits <- list(overall = fit_reference(time, event, ct, spec$times, spec$tau))
    if (!is.na(spec$group)) {
      group <- as.character(d[[spec$group]])
      levels <- sort(unique(group))
      fits$groups <- lapply(setNames(levels, levels), function(g) {
        keep <- group == g
        fit_reference(time[keep], event[keep], ct, spec$times, spec$tau)
      })
    }
    fits
  })
  out$followup <- followup_reference(time, event)
  if (!is.na(spec$group)) {
    group <- as.character(d[[spec$group]])
    out$logrank <- logrank_reference(time, event, group)
    out$pairwise <- pairwise_reference(time, event, group)
    by_group <- out$fits[["log-log"]]$groups
    out$rmst_differences <- rmst_differences(by_group, sort(unique(group))[1])
  }
  out
}

for (dataset in names(datasets)) {
  specs <- Filter(function(s) s[[2]] == dataset, ANALYSES)
  reference <- list(
    r_version = paste(R.version$major, R.version$minor, sep = "."),
    survival_version = as.character(packageVersion("survival")),
    dataset = dataset,
    analyses = lapply(specs, analysis_reference)
  )
  write_json(reference, file.path(ref_dir, paste0(dataset, ".json")))
}
