-- One record per person: a unique identity key (first name, surname and
-- date of birth, folded: lower case, no spaces, hyphens, apostrophes or
-- dots), and a ZIP code as a second factor for telling callers apart.
-- The application computes the key for new records (it also folds accents
-- and common speech-recognition spellings of surnames); for records
-- already stored it is computed here, the same for plain names.
ALTER TABLE patients ADD COLUMN zip TEXT;
ALTER TABLE patients ADD COLUMN identity_key TEXT;

UPDATE patients SET identity_key =
    replace(replace(replace(replace(name_key, ' ', ''), '-', ''), '''', ''), '.', '')
    || '|' || date_of_birth;

-- Duplicates already stored are merged into the oldest record of their
-- key: appointments, tasks and calls move to it, a missing phone number is
-- taken from a duplicate, then the duplicates go.
CREATE TABLE patient_merge AS
SELECT d.id AS duplicate_id,
       (SELECT k.id FROM patients k
         WHERE k.identity_key = d.identity_key
         ORDER BY k.created_at, k.id LIMIT 1) AS keep_id
  FROM patients d;
DELETE FROM patient_merge WHERE duplicate_id = keep_id;

UPDATE patients SET phone = (
    SELECT d.phone FROM patients d JOIN patient_merge m ON m.duplicate_id = d.id
     WHERE m.keep_id = patients.id AND d.phone IS NOT NULL
     ORDER BY d.created_at, d.id LIMIT 1)
 WHERE phone IS NULL
   AND id IN (SELECT keep_id FROM patient_merge);
UPDATE appointments SET patient_id =
    (SELECT m.keep_id FROM patient_merge m WHERE m.duplicate_id = appointments.patient_id)
 WHERE patient_id IN (SELECT duplicate_id FROM patient_merge);
UPDATE tasks SET patient_id =
    (SELECT m.keep_id FROM patient_merge m WHERE m.duplicate_id = tasks.patient_id)
 WHERE patient_id IN (SELECT duplicate_id FROM patient_merge);
UPDATE calls SET patient_id =
    (SELECT m.keep_id FROM patient_merge m WHERE m.duplicate_id = calls.patient_id)
 WHERE patient_id IN (SELECT duplicate_id FROM patient_merge);
DELETE FROM patients WHERE id IN (SELECT duplicate_id FROM patient_merge);
DROP TABLE patient_merge;

CREATE UNIQUE INDEX patients_identity_key ON patients (identity_key);
ALTER TABLE patients ALTER COLUMN identity_key SET NOT NULL;
