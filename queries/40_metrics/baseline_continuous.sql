-- Table 1, age at the index date (calendar year of the index date minus birth year): median and
-- quartiles (type 7 interpolation, as R's default) per stratum; a null stratum_key is all patients.
-- The quartiles are computed from the patients per age, by hand: DuckDB's quantile_cont does not
-- carry to other engines, and percentile_cont … within group becomes an approximation on Spark.
-- The type 7 quantile p of n sorted ages x(0) … x(n - 1) is x(j) + h (x(j + 1) - x(j)), where
-- j + h = (n - 1) p; x(k) is the lowest age that more than k patients are at or below.
with stratum_ages as (
    select
        stratum_key,
        age_years,
        count(*) as n_patients
    from adtte
    where list_contains(getvariable('baseline_covariates'), 'age')
    group by stratum_key, age_years
),

group_ages as (
    select stratum_key, age_years, n_patients from stratum_ages
    union all
    select
        cast(null as varchar) as stratum_key,
        age_years,
        sum(n_patients) as n_patients
    from stratum_ages
    group by age_years
),

cumulative_ages as (
    select
        stratum_key,
        age_years,
        sum(n_patients) over (
            partition by stratum_key order by age_years
            rows between unbounded preceding and current row
        ) as n_at_or_below,
        cast(sum(n_patients) over (partition by stratum_key) as double) as n_aged
    from group_ages
    where age_years is not null
),

order_statistics as (
    select
        stratum_key,
        min(case when n_at_or_below > floor((n_aged - 1) * 0.25) then age_years end) as q1_low,
        min(case when n_at_or_below > floor((n_aged - 1) * 0.25) + 1 then age_years end)
            as q1_high,
        (n_aged - 1) * 0.25 - floor((n_aged - 1) * 0.25) as q1_fraction,
        min(case when n_at_or_below > floor((n_aged - 1) * 0.5) then age_years end) as median_low,
        min(case when n_at_or_below > floor((n_aged - 1) * 0.5) + 1 then age_years end)
            as median_high,
        (n_aged - 1) * 0.5 - floor((n_aged - 1) * 0.5) as median_fraction,
        min(case when n_at_or_below > floor((n_aged - 1) * 0.75) then age_years end) as q3_low,
        min(case when n_at_or_below > floor((n_aged - 1) * 0.75) + 1 then age_years end)
            as q3_high,
        (n_aged - 1) * 0.75 - floor((n_aged - 1) * 0.75) as q3_fraction
    from cumulative_ages
    group by stratum_key, n_aged
),

group_counts as (
    select
        stratum_key,
        sum(case when age_years is not null then n_patients else 0 end) as n_patients,
        sum(case when age_years is null then n_patients else 0 end) as n_missing,
        min(age_years) as minimum,
        max(age_years) as maximum
    from group_ages
    group by stratum_key
)

select
    c.stratum_key,
    'age' as covariate,
    cast(c.n_patients as bigint) as n_patients,
    cast(c.n_missing as bigint) as n_missing,
    cast(o.median_low as double)
    + o.median_fraction * (coalesce(o.median_high, o.median_low) - o.median_low) as median,
    cast(o.q1_low as double) + o.q1_fraction * (coalesce(o.q1_high, o.q1_low) - o.q1_low) as q1,
    cast(o.q3_low as double) + o.q3_fraction * (coalesce(o.q3_high, o.q3_low) - o.q3_low) as q3,
    c.minimum,
    c.maximum
from group_counts as c
left join order_statistics as o
    on o.stratum_key is not distinct from c.stratum_key
order by c.stratum_key nulls last
