-- Treatment courses of the submissions in force, with the agent's class.
-- materialized: view
select
    s.site_id || ':' || t.patient_id as patient_key,
    t.treatment_id,
    t.agent,
    t.agent_class,
    t.start_date,
    t.end_date,
    t.doses,
    t.line,
    t.best_response,
    t.submission_id,
    t.source_row
from treatments as t
inner join stg_submissions_in_force as s using (submission_id)
