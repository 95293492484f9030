-- Time-varying view of the strata for the immortal-time analyses: per analysed patient, the
-- consecutive episodes (tstart, tstop] in days from the index date during which the patient
-- belonged to one stratum. Everyone starts in the stratum of their baseline rule, or the
-- default; each later-therapy rule takes over from the day its therapy starts, when it comes
-- earlier in the rule order than the current one. Death (is_event) is on the last episode.
-- Episodes of zero length (a therapy on the day follow-up ends) are left out.
with change_points as (
    select a.patient_key, 0 as day, r.rule_order
    from adtte as a
    cross join study_strata as r
    where r.is_default
    union all
    select m.patient_key, date_diff('day', a.startdt, m.match_start_date) as day, m.rule_order
    from strata_rule_matches as m
    inner join adtte as a using (patient_key)
    where m.match_start_date <= a.adt
),

rule_by_day as (
    select
        patient_key,
        day,
        min(min(rule_order)) over (
            partition by patient_key order by day
            rows between unbounded preceding and current row
        ) as current_rule
    from change_points
    group by patient_key, day
),

rule_changes as (
    select
        patient_key,
        day,
        current_rule,
        lag(current_rule) over (partition by patient_key order by day) as previous_rule
    from rule_by_day
),

episodes as (
    select
        c.patient_key,
        c.day as tstart_days,
        coalesce(
            lead(c.day) over (partition by c.patient_key order by c.day), a.aval_days
        ) as tstop_days,
        c.current_rule,
        a.aval_days,
        a.is_event
    from rule_changes as c
    inner join adtte as a using (patient_key)
    where c.previous_rule is null or c.current_rule <> c.previous_rule
)

select
    e.patient_key,
    r.stratum_key as episode_stratum_key,
    r.stratum_label as episode_stratum_label,
    e.tstart_days,
    e.tstop_days,
    e.tstart_days / getvariable('days_per_month') as tstart,
    e.tstop_days / getvariable('days_per_month') as tstop,
    e.is_event and e.tstop_days = e.aval_days as is_event
from episodes as e
inner join study_strata as r on r.rule_order = e.current_rule
where e.tstop_days > e.tstart_days
order by e.patient_key, e.tstart_days
