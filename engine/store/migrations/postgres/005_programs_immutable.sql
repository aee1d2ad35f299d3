-- A program's terms never change once it exists (a new rate is a new program): earns already made
-- under it stay explained by it, and the engine may keep a committed program in memory for good,
-- whichever process wrote it. Like transfers, programs refuse UPDATE and DELETE.
CREATE TRIGGER programs_immutable BEFORE UPDATE OR DELETE ON programs
FOR EACH ROW EXECUTE FUNCTION refuse_change();
