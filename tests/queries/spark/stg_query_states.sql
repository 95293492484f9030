/* Every query (a finding by its stable query_id) across a site's submissions: the submissions */
/* it was first and last seen in, and its state. A query stays open while the latest extract */
/* still breaks the rule for that record, or while no accepted extract has come since it was */
/* last seen; an accepted later extract that no longer breaks it resolves it. Derived from the */
/* recorded submissions and findings only, so it can always be rebuilt. */
/* (read by toolkit status and toolkit queries, not by an analysis: a view costs nothing) */
/* materialized: view */
WITH sightings AS (
  SELECT
    s.site_id,
    f.query_id,
    s.ingest_seq
  FROM findings AS f
  INNER JOIN submissions AS s
    ON f.submission_id = s.submission_id
  WHERE
    NOT f.query_id IS NULL
), spans AS (
  SELECT
    site_id,
    query_id,
    MIN(ingest_seq) AS first_seq,
    MAX(ingest_seq) AS last_seq
  FROM sightings
  GROUP BY
    site_id,
    query_id
), resolutions AS (
  SELECT
    sp.site_id,
    sp.query_id,
    MIN(s.ingest_seq) AS resolved_seq
  FROM spans AS sp
  INNER JOIN submissions AS s
    ON s.site_id = sp.site_id AND s.status = 'accepted' AND s.ingest_seq > sp.last_seq
  GROUP BY
    sp.site_id,
    sp.query_id
), last_findings AS (
  SELECT
    s.site_id,
    s.ingest_seq,
    f.query_id,
    f.file,
    f.`row`,
    f.patient_id,
    f.record_id,
    f.`column`,
    f.value,
    f.compared,
    f.rule,
    f.severity,
    f.message
  FROM findings AS f
  INNER JOIN submissions AS s
    ON f.submission_id = s.submission_id
)
SELECT
  sp.site_id,
  sp.query_id,
  lf.patient_id,
  lf.record_id,
  lf.file,
  lf.`row`,
  lf.`column`,
  lf.value,
  lf.compared,
  lf.rule,
  lf.severity,
  lf.message,
  first_seen.source_name AS first_seen_submission,
  first_seen.received_on AS first_seen_date,
  last_seen.source_name AS last_seen_submission,
  last_seen.received_on AS last_seen_date,
  resolved.source_name AS resolved_by_submission,
  resolved.received_on AS resolved_by_date,
  CASE WHEN r.resolved_seq IS NULL THEN 'open' ELSE 'resolved' END AS query_state
FROM spans AS sp
INNER JOIN last_findings AS lf
  ON lf.site_id = sp.site_id
  AND lf.query_id = sp.query_id
  AND lf.ingest_seq = sp.last_seq
INNER JOIN submissions AS first_seen
  ON first_seen.site_id = sp.site_id AND first_seen.ingest_seq = sp.first_seq
INNER JOIN submissions AS last_seen
  ON last_seen.site_id = sp.site_id AND last_seen.ingest_seq = sp.last_seq
LEFT JOIN resolutions AS r
  ON r.site_id = sp.site_id AND r.query_id = sp.query_id
LEFT JOIN submissions AS resolved
  ON resolved.ingest_seq = r.resolved_seq
