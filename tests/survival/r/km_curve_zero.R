# Reference values for S(t) where the Kaplan-Meier curve reaches 0 (the last observation is a
# death), at times within the follow-up and after the last time, for toolkit.survival.
#
#   Rscript tests/survival/r/km_curve_zero.R [DATA_DIR] [REFERENCE_FILE]
#
# Defaults: tests/survival/data and tests/survival/reference/km_curve_zero.json (run from the
# repository root). Reads veteran.csv (written by km_logrank_rmst.R) so that Python and R see
# the same numbers, and adds small hand-made cases. Each S(t) is R's
#   summary(survfit(Surv(time, event) ~ 1, conf.type = ct), times = times, extend = TRUE)
# (without extend = TRUE, summary() refuses a time after the last observed time). R's NA and
# NaN are written as null. Output is deterministic; needs only base R and survival.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[1] else "tests/survival/data"
out_file <- if (length(args) >= 2) args[2] else "tests/survival/reference/km_curve_zero.json"
dir.create(dirname(out_file), recursive = TRUE, showWarnings = FALSE)

CONF_TYPES <- c("log-log", "log", "plain")
CALL <- paste(
  "summary(survfit(Surv(time, event) ~ 1, conf.type = conf_type), times = times,",
  "extend = TRUE)"
)

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

# ---- cases ---------------------------------------------------------------------------------

veteran <- read.csv(file.path(data_dir, "veteran.csv"), stringsAsFactors = FALSE)
adeno <- veteran[veteran$celltype == "adeno", ]

# name, description, time, event, times for S(t)
CASES <- list(
  list("veteran_adeno",
       "VA lung cancer (veteran), celltype adeno: last observation a death at day 186",
       adeno$time, adeno$status, c(30, 90, 180, 186, 200, 365, 730)),
  list("tied_deaths_last",
       "two tied deaths at the last time take S(t) to 0",
       c(1, 2, 3, 3), c(1, 0, 1, 1), c(0, 2.5, 3, 4, 10)),
  list("single_death",
       "one patient, who dies at t = 5",
       c(5), c(1), c(4, 5, 6))
)

survival_at <- function(time, event, times, conf_type) {
  fit <- survfit(Surv(time, event) ~ 1, conf.type = conf_type)
  s <- summary(fit, times = times, extend = TRUE)
  list(
    time = arr(s$time), surv = arr(s$surv), std_err = arr(s$std.err),
    lower = arr(s$lower), upper = arr(s$upper), n_risk = arr(s$n.risk)
  )
}

case_reference <- function(spec) {
  names(spec) <- c("name", "description", "time", "event", "times")
  list(
    name = spec$name, description = spec$description,
    time = arr(spec$time), event = arr(spec$event), last_time = max(spec$time),
    at = lapply(setNames(CONF_TYPES, CONF_TYPES), function(ct) {
      survival_at(spec$time, spec$event, spec$times, ct)
    })
  )
}

reference <- list(
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  survival_version = as.character(packageVersion("survival")),
  script = "tests/survival/r/km_curve_zero.R",
  call = CALL,
  cases = lapply(CASES, case_reference)
)
writeLines(to_json(reference), out_file, useBytes = TRUE)
