-- Photos are public only when the ticket is published, and only https links (copied at publication).
ALTER TABLE ticket_publications ADD COLUMN IF NOT EXISTS photo_urls text[] NOT NULL DEFAULT '{}';
