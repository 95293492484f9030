-- The overall-survival data aggregated for the estimators: one row per stratum, distinct time and
-- event, with the number of patients. Kaplan–Meier, log-rank, RMST and the reverse Kaplan–Meier
-- of follow-up take these rows with their counts and give the estimates of the patients' own
-- rows; the rows number O(distinct times × strata), whatever the number of patients.
select
    stratum_key,
    stratum_order,
    aval,
    is_event,
    count(*) as n_patients
from adtte
group by stratum_key, stratum_order, aval, is_event
order by stratum_order, aval, is_event
