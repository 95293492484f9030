-- Patients as the previous cutoff's submissions reported them, keyed as stg_patients.
-- materialized: view
select
    p.site_id || ':' || p.patient_id as patient_key,
    p.site_id,
    p.patient_id,
    p.diagnosis_date,
    p.vital_status,
    p.last_contact_date,
    p.death_date,
    p.submission_id
from patients as p
inner join stg_previous_submissions as s on p.submission_id = s.submission_id
