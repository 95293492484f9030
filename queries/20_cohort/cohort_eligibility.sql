-- One row per registry patient: eligible or not, and the first reason that excluded them.
select
    patient_key,
    index_date,
    case
        when not has_index_class_course then 'no index therapy course on or before the cutoff'
        when not has_dosed_index_course then 'index therapy course with no dose given'
        when has_prior_excluding_therapy then 'excluding therapy before the index date'
    end as exclusion_reason,
    case
        when not has_index_class_course then 1
        when not has_dosed_index_course then 2
        when has_prior_excluding_therapy then 3
    end as exclusion_step,
    exclusion_reason is null as is_eligible
from cohort_index
