-- Adverse events of the submissions in force.
-- materialized: view
select
    s.site_id || ':' || a.patient_id as patient_key,
    a.ae_id,
    a.onset_date,
    a.term,
    a.autoimmune = 'yes' as is_autoimmune,
    a.grade,
    a.relatedness,
    a.treatment_id,
    a.outcome,
    a.submission_id,
    a.source_row
from adverse_events as a
inner join stg_submissions_in_force as s using (submission_id)
