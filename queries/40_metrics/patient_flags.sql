-- Per analysed patient, the events the poster counts, all dated on or before the cutoff:
--   progression (PD on an assessment, or as a course's best response) on or after the index date
--   and before the start of the later therapy that defines the patient's stratum;
--   a treatment-related autoimmune adverse event with onset on or after that start (on or after
--   the index date in strata not defined by later therapy);
--   a treatment-related death (grade 5 related event, or cause of death treatment-related).
-- Treatment-related means a relatedness listed in the study (variable treatment_related).
-- materialized: view
with progression_dates as (
    select patient_key, assessment_date as progression_date
    from stg_assessments
    where response = 'PD'
    union all
    select patient_key, start_date as progression_date
    from stg_treatments
    where best_response = 'PD'
),

progression as (
    select distinct s.patient_key
    from strata as s
    inner join progression_dates as d
        on d.patient_key = s.patient_key
        and d.progression_date >= s.index_date
        and d.progression_date < s.stratum_start_date
    where s.stratum_start_date is not null
),

autoimmune_post_therapy as (
    select distinct s.patient_key
    from strata as s
    inner join stg_adverse_events as ae
        on ae.patient_key = s.patient_key
        and ae.is_autoimmune
        and list_contains(getvariable('treatment_related'), ae.relatedness)
        and ae.onset_date >= coalesce(s.stratum_start_date, s.index_date)
        and ae.onset_date <= getvariable('cutoff_date')
),

treatment_related_death as (
    select distinct s.patient_key
    from strata as s
    inner join stg_adverse_events as ae
        on ae.patient_key = s.patient_key
        and ae.grade = 5
        and list_contains(getvariable('treatment_related'), ae.relatedness)
        and ae.onset_date <= getvariable('cutoff_date')
    union
    select p.patient_key
    from stg_patients as p
    where p.cause_of_death = 'treatment_related'
      and p.death_date <= getvariable('cutoff_date')
)

select
    s.patient_key,
    s.stratum_key,
    s.patient_key in (select patient_key from progression) as is_progressed_before_later_therapy,
    s.patient_key in (select patient_key from autoimmune_post_therapy)
        as has_related_autoimmune_post_therapy,
    s.patient_key in (select patient_key from treatment_related_death) as is_treatment_related_death
from strata as s
