# Reference values for toolkit.survival's models: Cox (Efron) with cox.zph, time-varying Cox,
# Simon-Makuch (survfit on counting-process data) and a landmark analysis.
#
#   Rscript tests/survival/r/models.R [DATA_DIR] [REFERENCE_DIR]
#
# Defaults: tests/survival/data and tests/survival/reference (run from the repository root).
# Reads lung.csv, veteran.csv and ovarian.csv (written by km_logrank_rmst.R; exported here the
# same way if absent), writes the small synthetic counting-process data set
# counting_process.csv (fixed seed), reads every CSV back and writes models_<data>.json.
# Output is deterministic for the same R and survival versions. Needs only base R and
# survival (no jsonlite).

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[1] else "tests/survival/data"
ref_dir <- if (length(args) >= 2) args[2] else "tests/survival/reference"
dir.create(data_dir, recursive = TRUE, showWarnings = FALSE)
dir.create(ref_dir, recursive = TRUE, showWarnings = FALSE)

# ---- a small JSON writer (length-1 vectors are scalars unless wrapped in I()) ----------------

json_number <- function(x) {
  ifelse(is.na(x) | !is.finite(x), "null", sprintf("%.17g", x))
}

to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      items <- vapply(seq_along(x), function(i) {
        paste0("\"", names(x)[i], "\": ", to_json(x[[i]]))
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

write_json <- function(x, name) {
  x <- c(x, list(r_version = paste(R.version$major, R.version$minor, sep = "."),
                 survival_version = as.character(packageVersion("survival"))))
  writeLines(to_json(x), file.path(ref_dir, paste0("models_", name, ".json")), useBytes = TRUE)
}

# ---- data ----------------------------------------------------------------------------------

read_or_export <- function(name, frame) {
  path <- file.path(data_dir, paste0(name, ".csv"))
  if (!file.exists(path)) write.csv(frame, path, row.names = FALSE)
  read.csv(path, stringsAsFactors = FALSE)
}

lung_data <- survival::lung
lung_data$event <- lung_data$status - 1L  # status 1 = censored, 2 = dead
lung <- read_or_export("lung", lung_data)
veteran <- read_or_export("veteran", survival::veteran)
ovarian <- read_or_export("ovarian", survival::ovarian)

# Synthetic counting-process data: everyone starts in group "a" at 0; some move to "b" and/or
# "c" later (a -> b, a -> c, a -> b -> c); whole-month times, so events tie.
synthetic_episodes <- function(n = 150) {
  set.seed(20150316)
  rows <- list()
  for (id in seq_len(n)) {
    age <- round(rnorm(1, 60, 10))
    sex <- sample(c("F", "M"), 1)
    survival_time <- ceiling(rexp(1, 1 / 18))
    censor_time <- sample(6:48, 1)
    end <- min(survival_time, censor_time)
    event <- as.integer(survival_time <= censor_time)
    cuts <- 0
    groups <- "a"
    if (end >= 3) {
      u <- runif(1)
      if (u < 0.45) {
        first <- sample(1:(end - 1), 1)
        cuts <- c(cuts, first)
        groups <- c(groups, if (u < 0.3) "b" else "c")
        if (u < 0.12 && end - first >= 2) {
          cuts <- c(cuts, first + sample(1:(end - first - 1), 1))
          groups <- c(groups, "c")
        }
      }
    }
    stops <- c(cuts[-1], end)
    rows[[id]] <- data.frame(
      id = sprintf("P%03d", id), tstart = cuts, tstop = stops,
      event = c(rep(0L, length(cuts) - 1), event), group = groups, age = age, sex = sex
    )
  }
  do.call(rbind, rows)
}

episodes <- read_or_export("counting_process", synthetic_episodes())

# Aliased coefficients (coxph gives them NA and fits the rest): level "c" of g has only
# patients censored before the first event, so it has no contrast in any risk set.
aliased <- read_or_export("aliased", data.frame(
  time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.5, 0.7),
  event = c(1L, 0L, 1L, 1L, 0L, 1L, 1L, 0L, 1L, 0L, 0L, 0L),
  g = c("a", "b", "a", "b", "a", "b", "a", "b", "a", "b", "c", "c"),
  x = c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8)
))

# ---- Cox models ----------------------------------------------------------------------------

# Coefficient names as toolkit.survival.cox writes them: "covariate" or "covariate=level".
term_names <- function(fit) {
  out <- character(0)
  for (term in names(fit$assign)) {
    levels <- fit$xlevels[[term]]
    if (is.null(levels)) out <- c(out, term) else out <- c(out, paste0(term, "=", levels[-1]))
  }
  out
}

cox_reference <- function(name, formula, data, zph = TRUE) {
  fit <- do.call(coxph, list(formula = formula, data = data, ties = "efron"))
  s <- summary(fit)
  ci <- exp(confint(fit))
  out <- list(
    name = name,
    formula = paste(deparse(formula, width.cutoff = 500L), collapse = ""),
    n = fit$n, events = fit$nevent,
    dropped_missing = length(fit$na.action),
    terms = arr(term_names(fit)),
    coef = arr(coef(fit)), se = arr(sqrt(diag(vcov(fit)))),
    hr = arr(exp(coef(fit))), hr_lower = arr(ci[, 1]), hr_upper = arr(ci[, 2]),
    z = arr(s$coefficients[, "z"]), p = arr(s$coefficients[, "Pr(>|z|)"]),
    loglik = arr(fit$loglik),
    tests = list(
      likelihood_ratio = list(chisq = s$logtest[["test"]], df = s$logtest[["df"]],
                              p = s$logtest[["pvalue"]]),
      # summary() rounds the Wald statistic to 2 decimals; the fit keeps it exact
      wald = list(chisq = unname(fit$wald.test), df = sum(!is.na(coef(fit))),
                  p = pchisq(unname(fit$wald.test), sum(!is.na(coef(fit))), lower.tail = FALSE)),
      score = list(chisq = s$sctest[["test"]], df = s$sctest[["df"]], p = s$sctest[["pvalue"]])
    ),
    iterations = fit$iter
  )
  if (zph) {
    table <- cox.zph(fit)$table
    k <- nrow(table)
    out$zph <- list(
      terms = arr(rownames(table)[-k]),
      chisq = arr(table[-k, "chisq"]), df = arr(table[-k, "df"]), p = arr(table[-k, "p"]),
      global = list(chisq = table[k, "chisq"], df = table[k, "df"], p = table[k, "p"])
    )
  }
  out
}

# The most frequent level first (ties alphabetically): toolkit.survival.cox's default reference.
by_frequency <- function(x) {
  counts <- table(x)
  levels <- names(counts)[order(-as.vector(counts), names(counts))]
  factor(x, levels = c(levels[1], sort(levels[-1])))
}

lung_f <- transform(lung, sex = factor(sex), ph.ecog = factor(ph.ecog))
veteran_f <- transform(veteran, celltype = factor(celltype))
veteran_freq <- transform(veteran, celltype = by_frequency(celltype))
ovarian_f <- transform(ovarian, rx = factor(rx), resid.ds = factor(resid.ds),
                       ecog.ps = factor(ecog.ps))

write_json(list(dataset = "lung", models = list(
  cox_reference("lung_continuous", Surv(time, event) ~ age + sex + ph.ecog, lung),
  cox_reference("lung_factors",
                Surv(time, event) ~ sex + ph.ecog + age + ph.karno + wt.loss, lung_f)
)), "lung")

write_json(list(dataset = "veteran", models = list(
  cox_reference("veteran_alphabetical",
                Surv(time, status) ~ celltype + trt + karno + age + prior, veteran_f),
  cox_reference("veteran_most_frequent",
                Surv(time, status) ~ celltype + trt + karno + age + prior, veteran_freq)
)), "veteran")

write_json(list(dataset = "ovarian", models = list(
  cox_reference("ovarian_factors",
                Surv(futime, fustat) ~ rx + resid.ds + ecog.ps + age, ovarian_f)
)), "ovarian")

# age2 is a linear function of age: its coefficient is NA.
lung_aliased <- transform(lung, age2 = 2 * age + 1)
write_json(list(dataset = "aliased", models = list(
  cox_reference("lung_collinear", Surv(time, event) ~ age + sex + age2, lung_aliased,
                zph = FALSE),
  # 1.1 * age: collinear too, but rounding leaves the information a small positive pivot
  cox_reference("lung_collinear_rounding", Surv(time, event) ~ age + sex + age2,
                transform(lung, age2 = 1.1 * age), zph = FALSE),
  cox_reference("level_without_contrast", Surv(time, event) ~ g + x,
                transform(aliased, g = factor(g)), zph = FALSE)
)), "aliased")

# ---- counting-process data: time-varying Cox, Simon-Makuch, landmark -----------------------

ep <- transform(episodes, group = factor(group), sex = factor(sex))
ticks <- c(0, 6, 12, 24, 36)

simon_makuch_reference <- function() {
  fit <- survfit(Surv(tstart, tstop, event) ~ group, data = ep, conf.type = "log-log")
  groups <- sub("^group=", "", names(fit$strata))
  tab <- summary(fit)$table
  out <- list()
  for (i in seq_along(groups)) {
    g <- groups[i]
    idx <- sum(fit$strata[seq_len(i - 1)]) + seq_len(fit$strata[i])
    hit <- idx[fit$n.event[idx] > 0]
    rows <- ep[ep$group == g, ]
    at_risk <- vapply(ticks, function(t) {
      if (t == 0) sum(rows$tstart <= 0 & rows$tstop > 0) else sum(rows$tstart < t & rows$tstop >= t)
    }, numeric(1))
    out[[i]] <- list(
      group = g,
      time = arr(fit$time[hit]), n_risk = arr(fit$n.risk[hit]), n_event = arr(fit$n.event[hit]),
      surv = arr(fit$surv[hit]), lower = arr(fit$lower[hit]), upper = arr(fit$upper[hit]),
      median = tab[i, "median"], median_lower = tab[i, "0.95LCL"],
      median_upper = tab[i, "0.95UCL"],
      ticks = arr(ticks), at_risk = arr(at_risk)
    )
  }
  out
}

# Conditional on reaching the first death with at least `m` at risk (survfit's start.time):
# a group that fills over time may meet its first deaths among a handful of patients.
simon_makuch_from_reference <- function(m) {
  lapply(sort(unique(as.character(ep$group))), function(g) {
    rows <- ep[ep$group == g, ]
    all <- survfit(Surv(tstart, tstop, event) ~ 1, data = rows)
    s0 <- all$time[all$n.event > 0 & all$n.risk >= m][1]
    fit <- survfit(Surv(tstart, tstop, event) ~ 1, data = rows, conf.type = "log-log",
                   start.time = s0)
    hit <- fit$n.event > 0
    tab <- summary(fit)$table
    list(
      group = g, from_at_risk = m, start_time = s0,
      time = arr(fit$time[hit]), n_risk = arr(fit$n.risk[hit]), surv = arr(fit$surv[hit]),
      lower = arr(fit$lower[hit]), upper = arr(fit$upper[hit]),
      median = tab[["median"]], median_lower = tab[["0.95LCL"]], median_upper = tab[["0.95UCL"]]
    )
  })
}

landmark_reference <- function(landmark) {
  last <- ep[order(ep$id, ep$tstart), ]
  patients <- do.call(rbind, lapply(split(last, last$id), function(rows) {
    at_l <- rows[rows$tstart <= landmark, ]
    data.frame(id = rows$id[1], aval = max(rows$tstop), event = rows$event[nrow(rows)],
               group = at_l$group[nrow(at_l)])
  }))
  excluded <- patients[patients$aval <= landmark, ]
  lm <- patients[patients$aval > landmark, ]
  lm$time <- lm$aval - landmark
  lm$group <- factor(lm$group)
  km <- survfit(Surv(time, event) ~ group, data = lm, conf.type = "log-log")
  tab <- summary(km)$table
  at12 <- summary(km, times = 12, extend = TRUE)
  fit <- do.call(coxph, list(formula = Surv(time, event) ~ group, data = lm))
  list(
    landmark = landmark, n_at_risk = nrow(lm), excluded = nrow(excluded),
    excluded_died = sum(excluded$event), excluded_censored = sum(1 - excluded$event),
    groups = arr(levels(lm$group)), n = arr(as.vector(table(lm$group))),
    events = arr(tab[, "events"]), median = arr(tab[, "median"]),
    surv_12 = arr(at12$surv),
    logrank_chisq = survdiff(Surv(time, event) ~ group, data = lm)$chisq,
    logrank_df = length(levels(lm$group)) - 1,
    cox_terms = arr(term_names(fit)), cox_coef = arr(coef(fit)),
    cox_se = arr(sqrt(diag(vcov(fit))))
  )
}

write_json(list(
  dataset = "counting_process",
  time_varying = list(
    cox_reference("tv_group", Surv(tstart, tstop, event) ~ group, ep, zph = FALSE),
    cox_reference("tv_adjusted", Surv(tstart, tstop, event) ~ group + age + sex, ep, zph = FALSE)
  ),
  simon_makuch = simon_makuch_reference(),
  simon_makuch_from_12 = simon_makuch_from_reference(12),
  landmarks = list(landmark_reference(6), landmark_reference(12))
), "counting_process")
