-- +goose Up

-- An erased contact stays erased, whatever is in flight when its erasure
-- begins. Every write that could bring a contact back (a conversation row,
-- a recording row or the object it names, a stored CTR version) checks the
-- tombstone in the statement that writes, and the check and the tombstone
-- cannot interleave: the writer holds a shared advisory lock on the contact
-- until it commits, the tombstone's insert takes it exclusively. So either
-- the write committed first and the erasure, which reads after its
-- tombstone, finds and removes it; or the tombstone committed first and the
-- write is refused with SQLSTATE CI409.
-- +goose StatementBegin
CREATE FUNCTION erasure_lock_key(tenant text, contact text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT hashtextextended(tenant || '/' || contact, 0) $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION refuse_erased() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(erasure_lock_key(NEW.tenant_id, NEW.contact_id));
    -- A VOLATILE function's query takes a fresh snapshot: a tombstone
    -- committed while this statement waited for the lock is seen.
    IF EXISTS (SELECT 1 FROM erasures WHERE tenant_id = NEW.tenant_id AND contact_id = NEW.contact_id) THEN
        RAISE EXCEPTION 'contact %/% is erased', NEW.tenant_id, NEW.contact_id USING ERRCODE = 'CI409';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION lock_erasure() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(erasure_lock_key(NEW.tenant_id, NEW.contact_id));
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER erasures_lock BEFORE INSERT ON erasures
    FOR EACH ROW EXECUTE FUNCTION lock_erasure();
-- An insert that ends as ON CONFLICT DO UPDATE fires BEFORE INSERT too: an
-- upsert of an erased contact's row is refused as well.
CREATE TRIGGER conversations_refuse_erased BEFORE INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION refuse_erased();
-- A recording row is written when its copy is stored: an object copied
-- after the erasure read the rows is refused here, and its copy removes it.
CREATE TRIGGER recordings_refuse_erased BEFORE INSERT OR UPDATE OF object_key ON recordings
    FOR EACH ROW EXECUTE FUNCTION refuse_erased();
CREATE TRIGGER ctr_versions_refuse_erased BEFORE INSERT ON ctr_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_erased();

-- Roles fit the acts: read (metadata), operate (retry, cancel), erase, and
-- raw (the bytes of quarantined records and dead letters), each implying
-- read. An operator limited to tenants acts on their calls only; none means
-- every tenant. The column role stays for programs of the previous release
-- while this one rolls out. "bootstrap" is WORKER_ADMIN_TOKEN's name.
ALTER TABLE operators
    ADD COLUMN roles   text[] NOT NULL DEFAULT '{read}'
        CHECK (roles <@ ARRAY['read', 'operate', 'erase', 'raw'] AND cardinality(roles) >= 1),
    ADD COLUMN tenants text[] NOT NULL DEFAULT '{}';
UPDATE operators SET roles = ARRAY[role];
-- NOT VALID: an operator of that name created before stays listed (and can
-- be revoked); no new one can be.
ALTER TABLE operators ADD CONSTRAINT operators_name_not_bootstrap CHECK (name <> 'bootstrap') NOT VALID;

-- Audit before action: an entry is written as intent (outcome pending)
-- before the act, and completed with its outcome after. A bulk action keeps
-- the calls it touched.
ALTER TABLE audit_log
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN calls        jsonb NOT NULL DEFAULT '[]';
UPDATE audit_log SET completed_at = at;
CREATE INDEX audit_log_operator ON audit_log (operator, at);

-- +goose Down
DROP INDEX audit_log_operator;
ALTER TABLE audit_log DROP COLUMN completed_at, DROP COLUMN calls;
ALTER TABLE operators DROP CONSTRAINT operators_name_not_bootstrap, DROP COLUMN roles, DROP COLUMN tenants;
DROP TRIGGER ctr_versions_refuse_erased ON ctr_versions;
DROP TRIGGER recordings_refuse_erased ON recordings;
DROP TRIGGER conversations_refuse_erased ON conversations;
DROP TRIGGER erasures_lock ON erasures;
DROP FUNCTION lock_erasure();
DROP FUNCTION refuse_erased();
DROP FUNCTION erasure_lock_key(text, text);
