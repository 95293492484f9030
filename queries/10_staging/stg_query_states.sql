-- Every query (a finding by its stable query_id) across a site's submissions: the submissions
-- it was first and last seen in, and its state. A query stays open while the latest extract
-- still breaks the rule for that record, or while no accepted extract has come since it was
-- last seen; an accepted later extract that no longer breaks it resolves it. Derived from the
-- recorded submissions and findings only, so it can always be rebuilt.
-- (read by toolkit status and toolkit queries, not by an analysis: a view costs nothing)
-- materialized: view
with sightings as (
    select
        s.site_id,
        f.query_id,
        s.ingest_seq
    from findings as f
    inner join submissions as s on f.submission_id = s.submission_id
    where f.query_id is not null
),

spans as (
    select
        site_id,
        query_id,
        min(ingest_seq) as first_seq,
        max(ingest_seq) as last_seq
    from sightings
    group by site_id, query_id
),

resolutions as (
    select
        sp.site_id,
        sp.query_id,
        min(s.ingest_seq) as resolved_seq
    from spans as sp
    inner join submissions as s
        on s.site_id = sp.site_id and s.status = 'accepted' and s.ingest_seq > sp.last_seq
    group by sp.site_id, sp.query_id
),

last_findings as (
    select
        s.site_id,
        s.ingest_seq,
        f.query_id,
        f.file,
        f."row",
        f.patient_id,
        f.record_id,
        f."column",
        f.value,
        f.compared,
        f.rule,
        f.severity,
        f.message
    from findings as f
    inner join submissions as s on f.submission_id = s.submission_id
)

select
    sp.site_id,
    sp.query_id,
    lf.patient_id,
    lf.record_id,
    lf.file,
    lf."row",
    lf."column",
    lf.value,
    lf.compared,
    lf.rule,
    lf.severity,
    lf.message,
    first_seen.source_name as first_seen_submission,
    first_seen.received_on as first_seen_date,
    last_seen.source_name as last_seen_submission,
    last_seen.received_on as last_seen_date,
    resolved.source_name as resolved_by_submission,
    resolved.received_on as resolved_by_date,
    case when r.resolved_seq is null then 'open' else 'resolved' end as query_state
from spans as sp
inner join last_findings as lf
    on lf.site_id = sp.site_id and lf.query_id = sp.query_id and lf.ingest_seq = sp.last_seq
inner join submissions as first_seen
    on first_seen.site_id = sp.site_id and first_seen.ingest_seq = sp.first_seq
inner join submissions as last_seen
    on last_seen.site_id = sp.site_id and last_seen.ingest_seq = sp.last_seq
left join resolutions as r on r.site_id = sp.site_id and r.query_id = sp.query_id
left join submissions as resolved on resolved.ingest_seq = r.resolved_seq
