-- 0005: a reason's name in each language its calls are in, with the evidence for it.
-- `reasons.label` stays the default name (a human name wins there, as before). A row per reason
-- and language in which the reason has enough calls in the run's window; the language `all` is
-- the default (generated) name measured over all the reason's calls. Replaced by every run.
CREATE TABLE reason_names (
    reason_id  INTEGER NOT NULL,
    language   VARCHAR NOT NULL,   -- da | nb | en | all
    name       VARCHAR NOT NULL,
    calls      BIGINT NOT NULL,    -- the reason's calls in that language, in the window
    share      DOUBLE NOT NULL,    -- of those calls, the share sharing a content word with the name
    weak       BOOLEAN NOT NULL,   -- share below `cluster.name_weak_share`: shown as weak evidence
    PRIMARY KEY (reason_id, language)
);
