-- Disease assessments of the submissions in force.
-- materialized: view
select
    s.site_id || ':' || a.patient_id as patient_key,
    a.assessment_date,
    a.response,
    a.method,
    a.submission_id,
    a.source_row
from assessments as a
inner join stg_submissions_in_force as s using (submission_id)
