/* One analysis row per patient for overall survival, in the shape of a CDISC ADaM ADTTE dataset, */
/* with the stratum and the baseline covariates. */
/* Time starts at the index date; deaths after the cutoff are censored at the cutoff; follow-up */
/* ends at the earlier of last contact and the cutoff. */
/* CNSR: 0 death; 1 alive, censored at the data cutoff; 2 alive, censored at last contact; */
/*       3 lost to follow-up, censored at last contact; 4 died after the cutoff, censored at it. */
/* Rows come in stratum order, then by patient_key: the order the analysis reads them in. */
WITH outcome AS (
  SELECT
    s.patient_key,
    s.stratum_key,
    s.stratum_label,
    s.stratum_order,
    s.stratum_start_date,
    s.index_date AS startdt,
    p.site_id,
    p.vital_status,
    p.death_date,
    p.last_contact_date,
    CAST(YEAR(s.index_date) - p.birth_year AS BIGINT) AS age_years,
    p.sex,
    p.primary_site,
    p.m_stage,
    p.ecog,
    p.ldh_elevated,
    p.brain_metastases,
    p.braf_status,
    CASE
      WHEN p.death_date <= CAST('2015-03-16' AS DATE)
      THEN 0
      WHEN p.death_date > CAST('2015-03-16' AS DATE)
      THEN 4
      WHEN p.last_contact_date >= CAST('2015-03-16' AS DATE)
      THEN 1
      WHEN p.vital_status = 'lost_to_follow_up'
      THEN 3
      ELSE 2
    END AS cnsr
  FROM strata AS s
  INNER JOIN stg_patients AS p
    USING (patient_key)
)
SELECT
  patient_key,
  'OS' AS paramcd,
  'Overall survival' AS param,
  stratum_key,
  stratum_label,
  stratum_order,
  stratum_start_date,
  startdt,
  CASE
    WHEN cnsr = 0
    THEN death_date
    WHEN cnsr IN (1, 4)
    THEN CAST('2015-03-16' AS DATE)
    ELSE last_contact_date
  END AS adt,
  DATEDIFF(DAY, startdt, adt) AS aval_days,
  aval_days / CAST(30.4375 AS DOUBLE) AS aval,
  cnsr,
  cnsr = 0 AS is_event,
  CASE WHEN cnsr = 0 THEN 'DEATH' END AS evntdesc,
  CASE cnsr
    WHEN 1
    THEN 'ALIVE AT DATA CUTOFF'
    WHEN 2
    THEN 'LAST KNOWN ALIVE DATE'
    WHEN 3
    THEN 'LOST TO FOLLOW-UP'
    WHEN 4
    THEN 'DEATH AFTER DATA CUTOFF'
  END AS cnsdtdsc,
  site_id,
  age_years,
  sex,
  primary_site,
  m_stage,
  ecog,
  ldh_elevated,
  brain_metastases,
  braf_status
FROM outcome
ORDER BY
  stratum_order NULLS LAST,
  patient_key NULLS LAST
