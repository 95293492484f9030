/* Per analysed patient, the events the poster counts, all dated on or before the cutoff: */
/*   progression (PD on an assessment, or as a course's best response) on or after the index date */
/*   and before the start of the later therapy that defines the patient's stratum; */
/*   a treatment-related autoimmune adverse event with onset on or after that start (on or after */
/*   the index date in strata not defined by later therapy); */
/*   a treatment-related death (grade 5 related event, or cause of death treatment-related). */
/* Treatment-related means a relatedness listed in the study (variable treatment_related). */
/* materialized: view */
WITH progression_dates AS (
  SELECT
    patient_key,
    assessment_date AS progression_date
  FROM stg_assessments
  WHERE
    response = 'PD'
  UNION ALL
  SELECT
    patient_key,
    start_date AS progression_date
  FROM stg_treatments
  WHERE
    best_response = 'PD'
), progression AS (
  SELECT DISTINCT
    s.patient_key
  FROM strata AS s
  INNER JOIN progression_dates AS d
    ON d.patient_key = s.patient_key
    AND d.progression_date >= s.index_date
    AND d.progression_date < s.stratum_start_date
  WHERE
    NOT s.stratum_start_date IS NULL
), autoimmune_post_therapy AS (
  SELECT DISTINCT
    s.patient_key
  FROM strata AS s
  INNER JOIN stg_adverse_events AS ae
    ON ae.patient_key = s.patient_key
    AND ae.is_autoimmune
    AND ARRAY_CONTAINS(CAST(ARRAY('definite', 'probable', 'possible') AS ARRAY<STRING>), ae.relatedness)
    AND ae.onset_date >= COALESCE(s.stratum_start_date, s.index_date)
    AND ae.onset_date <= CAST('2015-03-16' AS DATE)
), treatment_related_death AS (
  SELECT DISTINCT
    s.patient_key
  FROM strata AS s
  INNER JOIN stg_adverse_events AS ae
    ON ae.patient_key = s.patient_key
    AND ae.grade = 5
    AND ARRAY_CONTAINS(CAST(ARRAY('definite', 'probable', 'possible') AS ARRAY<STRING>), ae.relatedness)
    AND ae.onset_date <= CAST('2015-03-16' AS DATE)
  UNION
  SELECT
    p.patient_key
  FROM stg_patients AS p
  WHERE
    p.cause_of_death = 'treatment_related'
    AND p.death_date <= CAST('2015-03-16' AS DATE)
)
SELECT
  s.patient_key,
  s.stratum_key,
  s.patient_key IN (
    SELECT
      patient_key
    FROM progression
  ) AS is_progressed_before_later_therapy,
  s.patient_key IN (
    SELECT
      patient_key
    FROM autoimmune_post_therapy
  ) AS has_related_autoimmune_post_therapy,
  s.patient_key IN (
    SELECT
      patient_key
    FROM treatment_related_death
  ) AS is_treatment_related_death
FROM strata AS s
