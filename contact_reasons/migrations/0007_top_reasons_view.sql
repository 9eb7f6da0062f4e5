-- 0007: the BI view ranks reasons only. The unexplained calls (reason_id -1) stay in the view,
-- so a week's rows still add up to its calls, but with no rank: they were ranked among the
-- reasons (the demo's W47 showed "(unexplained)" as the second contact reason).
DROP VIEW v_weekly_top_reasons;

CREATE VIEW v_weekly_top_reasons AS
SELECT
    s.week,
    CASE WHEN s.reason_id >= 0 THEN
        dense_rank() OVER (PARTITION BY s.week, s.reason_id >= 0 ORDER BY s.calls DESC)
    END AS rank,
    s.reason_id,
    coalesce(r.label, s.label) AS label,
    s.calls,
    s.share,
    s.baseline_calls,
    s.change,
    s.change_pct,
    s.is_emerging,
    s.example_call_ids
FROM weekly_reason_stats s
LEFT JOIN reasons r ON r.reason_id = s.reason_id
WHERE s.calls > 0 AND coalesce(r.status, 'active') <> 'ignored';
