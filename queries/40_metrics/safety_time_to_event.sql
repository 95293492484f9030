-- Per analysed patient, the time from the start of the safety window to the first
-- treatment-related autoimmune adverse event, with death before it as a competing event.
-- The window starts at the later therapy that defines the patient's stratum (at the index date
-- in strata not defined by later therapy) and ends with follow-up, as in adtte: at death, last
-- contact or the cutoff. Treatment-related means a relatedness listed in the study.
-- status: 1 the adverse event; 2 death without it; 0 censored.
-- Rows come in stratum order, then by patient_key.
with windows as (
    select
        patient_key,
        stratum_key,
        stratum_order,
        stratum_start_date is not null as is_window_later_therapy,
        coalesce(stratum_start_date, startdt) as window_start_date,
        adt,
        is_event
    from adtte
),

first_events as (
    select w.patient_key, min(ae.onset_date) as event_date
    from windows as w
    inner join stg_adverse_events as ae
        on ae.patient_key = w.patient_key
        and ae.is_autoimmune
        and list_contains(getvariable('treatment_related'), ae.relatedness)
        and ae.onset_date >= w.window_start_date
        and ae.onset_date <= w.adt
    group by w.patient_key
)

select
    w.patient_key,
    w.stratum_key,
    w.stratum_order,
    w.is_window_later_therapy,
    w.window_start_date,
    coalesce(e.event_date, w.adt) as window_end_date,
    date_diff('day', w.window_start_date, coalesce(e.event_date, w.adt)) as time_days,
    date_diff('day', w.window_start_date, coalesce(e.event_date, w.adt))
        / getvariable('days_per_month') as time_months,
    case
        when e.event_date is not null then 1
        when w.is_event then 2
        else 0
    end as status
from windows as w
left join first_events as e using (patient_key)
where w.window_start_date <= w.adt
order by w.stratum_order, w.patient_key
