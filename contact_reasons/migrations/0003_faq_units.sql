-- 0003: FAQ units and what a web team reads per FAQ gap (issue 15). Self-contained: it only adds.
-- `faq_units` holds FAQ pages split into question/answer units. Storing the same units again
-- changes nothing (keyed by unit_id, compared by content_hash); a changed unit is updated and
-- keeps its first_read_at. `faq_recommendations` keeps its columns (`recommendation` is the kind:
-- new_page | improve_page | findability | covered) and gains the evidence columns.

CREATE TABLE faq_units (
    unit_id           VARCHAR PRIMARY KEY,     -- hash of url, position and question
    url               VARCHAR NOT NULL,        -- page address, or file path
    page_title        VARCHAR NOT NULL,
    question          VARCHAR NOT NULL,        -- the unit's heading (the page title for its intro)
    answer            VARCHAR NOT NULL,
    position          INTEGER NOT NULL,        -- order on the page
    language          VARCHAR,
    page_date         DATE,                    -- from an Updated line, sitemap lastmod or meta
    page_date_source  VARCHAR,                 -- text | lastmod | meta (NULL: none on the page)
    content_hash      VARCHAR NOT NULL,
    page_hash         VARCHAR NOT NULL,
    first_read_at     TIMESTAMP NOT NULL,      -- UTC, when this unit was first stored
    changed_at        TIMESTAMP NOT NULL       -- UTC, when its content last changed
);

ALTER TABLE faq_recommendations ADD COLUMN coverage DOUBLE;            -- share of calls a unit answers
ALTER TABLE faq_recommendations ADD COLUMN touched DOUBLE;             -- share of calls a page touches
ALTER TABLE faq_recommendations ADD COLUMN best_unit_id VARCHAR;
ALTER TABLE faq_recommendations ADD COLUMN best_url VARCHAR;
ALTER TABLE faq_recommendations ADD COLUMN best_question VARCHAR;
ALTER TABLE faq_recommendations ADD COLUMN unanswered_questions VARCHAR[];  -- calls' questions the unit leaves open
ALTER TABLE faq_recommendations ADD COLUMN key_terms VARCHAR[];
ALTER TABLE faq_recommendations ADD COLUMN trend VARCHAR;              -- rising | falling | steady | new
ALTER TABLE faq_recommendations ADD COLUMN trend_pct DOUBLE;           -- last 4 weeks against the 4 before
ALTER TABLE faq_recommendations ADD COLUMN language VARCHAR;           -- language to write the page in
ALTER TABLE faq_recommendations ADD COLUMN caller_languages VARCHAR;   -- e.g. "da 55%, nb 35%, en 10%"
ALTER TABLE faq_recommendations ADD COLUMN unanswered_calls_per_week DOUBLE;  -- calls nobody picked up
ALTER TABLE faq_recommendations ADD COLUMN savings_assumption VARCHAR;
ALTER TABLE faq_recommendations ADD COLUMN page_date DATE;
ALTER TABLE faq_recommendations ADD COLUMN page_date_source VARCHAR;   -- text | lastmod | meta | first_read
ALTER TABLE faq_recommendations ADD COLUMN calls_per_week_before DOUBLE;  -- before the page's date
ALTER TABLE faq_recommendations ADD COLUMN calls_per_week_after DOUBLE;   -- from the page's date on
ALTER TABLE faq_recommendations ADD COLUMN example_call_ids VARCHAR[];

-- A covered reason is not a gap: the BI view shows what a web team should act on.
CREATE VIEW v_faq_gaps AS
SELECT * FROM faq_recommendations WHERE recommendation <> 'covered';
