-- Time-varying view of the strata for the immortal-time analyses: per analysed patient, the
-- consecutive episodes (tstart, tstop] in days from the index date during which the patient
-- belonged to one stratum. Everyone starts in the stratum of their baseline rule, or the
-- default; each later-therapy rule takes over from the day its therapy starts, when it comes
-- earlier in the rule order than the current one. Death (is_event) is on the last episode.
-- Episodes of zero length (a therapy on the day follow-up ends) are left out.
-- A patient with no rule match during follow-up has one episode in the default stratum; only
-- the patients with matches go through the day-by-day windows.
with default_rule as (
    select rule_order from study_strata where is_default
),

follow_up_matches as (
    -- each analysed patient with the rule matches that begin during follow-up (none: one row
    -- with a null rule_order)
    select
        a.patient_key,
        date_diff('day', a.startdt, m.match_start_date) as day,
        m.rule_order,
        a.aval_days,
        a.is_event
    from adtte as a
    left join strata_rule_matches as m
        on m.patient_key = a.patient_key
        and m.match_start_date <= a.adt
),

change_points as (
    -- the matches, and the default rule from day 0 (once per match; grouped by day below)
    select patient_key, day, rule_order, aval_days, is_event
    from follow_up_matches
    where rule_order is not null
    union all
    select m.patient_key, 0 as day, d.rule_order, m.aval_days, m.is_event
    from follow_up_matches as m
    cross join default_rule as d
    where m.rule_order is not null
),

rule_by_day as (
    -- per day with a change point: the first rule in force up to that day, and up to the day before
    select
        patient_key,
        day,
        aval_days,
        is_event,
        min(min(rule_order)) over (
            partition by patient_key order by day
            rows between unbounded preceding and current row
        ) as current_rule,
        min(min(rule_order)) over (
            partition by patient_key order by day
            rows between unbounded preceding and 1 preceding
        ) as previous_rule
    from change_points
    group by patient_key, day, aval_days, is_event
),

changing_episodes as (
    select
        patient_key,
        day as tstart_days,
        coalesce(
            lead(day) over (partition by patient_key order by day), aval_days
        ) as tstop_days,
        current_rule,
        aval_days,
        is_event
    from rule_by_day
    where previous_rule is null or current_rule <> previous_rule
),

constant_episodes as (
    select
        m.patient_key,
        0 as tstart_days,
        m.aval_days as tstop_days,
        d.rule_order as current_rule,
        m.aval_days,
        m.is_event
    from follow_up_matches as m
    cross join default_rule as d
    where m.rule_order is null
),

episodes as (
    select * from changing_episodes
    union all
    select * from constant_episodes
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
