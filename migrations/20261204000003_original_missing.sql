-- Set by the orphan sweep (app/src/artworks/orphans.rs) when an artwork's
-- original is no longer in the originals bucket; cleared if it comes back.
-- The support console's uploads page lists these rows.
ALTER TABLE artworks ADD COLUMN original_missing_since timestamptz;
