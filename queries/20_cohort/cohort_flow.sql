-- Eligibility flow for a CONSORT-style diagram: patients remaining after each step,
-- and how many each step excluded.
with steps as (
    select * from (
        values
            (0, 'patients in the registry (submissions in force)'),
            (1, 'with an index therapy course on or before the cutoff'),
            (2, 'with at least one dose of the index therapy'),
            (3, 'without excluding therapy before the index date')
    ) as s (step, label)
)

select
    s.step,
    s.label,
    count(e.patient_key) filter (
        where e.exclusion_step is null or e.exclusion_step > s.step
    ) as n_remaining,
    count(e.patient_key) filter (where e.exclusion_step = s.step) as n_excluded,
    max(e.exclusion_reason) filter (where e.exclusion_step = s.step) as exclusion_reason
from steps as s
cross join cohort_eligibility as e
group by s.step, s.label
order by s.step
