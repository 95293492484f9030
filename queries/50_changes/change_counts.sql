-- How many changes of each kind since the previous cutoff, for the report's appendix: the
-- counts of patient_changes by kind (a kind that did not happen has no row), and the treatment
-- courses whose dates moved.
-- materialized: view
select change_kind, count(*) as n_changes
from patient_changes
group by change_kind

union all

select 'treatment_date_changed' as change_kind, count(*) as n_changes
from treatment_changes
