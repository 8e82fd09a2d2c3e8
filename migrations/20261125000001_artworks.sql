-- Merchants' artworks. A row exists exactly when its original is in the
-- originals bucket: the upload writes both or neither.
CREATE TABLE artworks (
    id                uuid PRIMARY KEY,          -- UUIDv7: sorts by upload time
    original_key      text NOT NULL UNIQUE,
    original_filename text NOT NULL,             -- as the merchant's browser sent it; escaped on output
    format            text NOT NULL CHECK (format IN ('png', 'jpeg')),
    width             integer NOT NULL CHECK (width > 0),
    height            integer NOT NULL CHECK (height > 0),
    bytes             bigint NOT NULL CHECK (bytes > 0),
    uploaded_at       timestamptz NOT NULL DEFAULT now(),
    resized_at        timestamptz,
    renditions        jsonb,                     -- the resizer's manifest entries once done
    CHECK ((resized_at IS NULL) = (renditions IS NULL))
);

-- The gallery pages through finished artworks, newest first.
CREATE INDEX artworks_gallery ON artworks (id DESC) WHERE resized_at IS NOT NULL;
-- The reconciler looks for unfinished ones.
CREATE INDEX artworks_processing ON artworks (uploaded_at) WHERE resized_at IS NULL;
