-- What changed in the patients between the previous cutoff's submissions and this cutoff's: a
-- patient new to a site's extract or gone from it, a death added, and an already-reported
-- diagnosis or death date that moved, each with the old and new value and the submissions
-- they came from. Empty when there is no previous cutoff. Only the submissions that differ
-- between the two cutoffs are compared: a site whose submission is the same at both reports the
-- same rows, so none of its patients changed.
-- materialized: view
with previous_patients as (
    select * from stg_previous_patients
    where submission_id not in (select submission_id from stg_submissions_in_force)
),

current_patients as (
    select
        patient_key,
        site_id,
        patient_id,
        diagnosis_date,
        death_date,
        submission_id
    from stg_patients
    where exists (select 1 from stg_previous_submissions)
        and submission_id not in (select submission_id from stg_previous_submissions)
),

paired as (
    select
        coalesce(c.patient_key, p.patient_key) as patient_key,
        coalesce(c.site_id, p.site_id) as site_id,
        coalesce(c.patient_id, p.patient_id) as patient_id,
        p.patient_key is null as is_new,
        c.patient_key is null as is_gone,
        p.diagnosis_date as old_diagnosis_date,
        c.diagnosis_date as new_diagnosis_date,
        p.death_date as old_death_date,
        c.death_date as new_death_date,
        p.submission_id as old_submission_id,
        c.submission_id as new_submission_id
    from current_patients as c
    full outer join previous_patients as p on c.patient_key = p.patient_key
)

select site_id, patient_id, 'new_patient' as change_kind, null as field_name,
    null as old_value, null as new_value, old_submission_id, new_submission_id
from paired where is_new

union all

select site_id, patient_id, 'patient_dropped', null, null, null, old_submission_id, new_submission_id
from paired where is_gone

union all

select site_id, patient_id, 'death_added', 'death_date', null,
    cast(new_death_date as varchar), old_submission_id, new_submission_id
from paired
where not is_new and not is_gone and old_death_date is null and new_death_date is not null

union all

select site_id, patient_id, 'date_changed', 'death_date', cast(old_death_date as varchar),
    cast(new_death_date as varchar), old_submission_id, new_submission_id
from paired
where not is_new and not is_gone and old_death_date is not null
    and old_death_date is distinct from new_death_date

union all

select site_id, patient_id, 'date_changed', 'diagnosis_date', cast(old_diagnosis_date as varchar),
    cast(new_diagnosis_date as varchar), old_submission_id, new_submission_id
from paired
where not is_new and not is_gone and old_diagnosis_date is distinct from new_diagnosis_date
