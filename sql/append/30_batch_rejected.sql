-- Makes: rejected_rows — adds the batch's unusable rows, with its batch_id and their line.
-- Rules: the load's inputs and "Updates": a batch's rejected rows are kept like a load's.
-- Needs: batch_rows; variables `batch_id`, `batch_source`, `batch_file`, `batch_line_offset`
-- (0 for CSV; -1 for JSON, whose objects are numbered from 1 with no header line).

INSERT INTO rejected_rows
SELECT
    getvariable('batch_source'),
    getvariable('batch_file'),
    line + getvariable('batch_line_offset'),
    raw,
    reason,
    detail,
    getvariable('batch_id')
FROM batch_rows
WHERE reason IS NOT NULL
ORDER BY line;
