-- The signed receipt keeps what was consented to, word for word, and who
-- signed it (the representative's address), next to the typed full name,
-- the time, the client address and the archive's hash.
ALTER TABLE decommissions ADD COLUMN receipt_consent text;
ALTER TABLE decommissions ADD COLUMN receipt_by text;
