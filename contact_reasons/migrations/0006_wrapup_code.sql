-- 0006: a call's wrap-up code, when the input names a column for it (`seeded.wrapup_column`).
-- Free text, redacted like the summary before it is stored. A refit of the weekly flow takes a
-- call with a code as a seed of the reason the code names (docs/catalogue.md).
ALTER TABLE calls ADD COLUMN wrapup_code VARCHAR;
