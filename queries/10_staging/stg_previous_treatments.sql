-- Treatment courses as the previous cutoff's submissions reported them.
-- materialized: view
select
    s.site_id || ':' || t.patient_id as patient_key,
    s.site_id,
    t.treatment_id,
    t.start_date,
    t.end_date,
    t.submission_id
from treatments as t
inner join stg_previous_submissions as s on t.submission_id = s.submission_id
