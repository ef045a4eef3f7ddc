-- Makes: group_rows — every data line of the store-groups file (store_groups.csv), parsed, with
-- the reason it cannot be used (`reason` NULL when it can).
-- Uses group_lines: the file's lines in order (line n is its row n: see file_lines), dropped
-- once group_rows is made.
-- Rules: the load's inputs, store groups: a row puts a store in a group, a label such as
-- `owner:acme`, `brand:pizzaco` or `region:midwest`: any text (blanks around it removed, as
-- around a store_id) of 1 to group_max_length() characters without control characters (NUL,
-- \x01-\x1f, \x7f). An empty label is `missing group`, a longer one `group too long`, one with a
-- control character `group has control characters`. A store may have several rows, one per
-- group; the same (store, group) twice counts once. Unreadable rows are kept with file, line,
-- raw text and reason.
-- Needs: 00_parse_macros.sql. The file is optional: variables `groups_file` (path),
-- `groups_newline` (\n or \r\n, default \n) and `groups_columns` ({store_id, group: 1-based
-- positions, fields: header width}; default the columns in that order); without `groups_file`
-- there are no groups (the variable `status_file` names a file to plan the read on, which reads
-- nothing).
-- Optional: `groups_read_from`, the file the bytes are read from when it is not `groups_file`
-- (the UTF-8 transcoding of a UTF-16 file); rows name `groups_file`.
-- Optional: `groups_max_line_size`, the longest line read in bytes (default 1 GiB; see
-- file_lines).

CREATE OR REPLACE TEMP TABLE group_lines AS
SELECT raw FROM file_lines(
    coalesce(getvariable('groups_read_from'), getvariable('groups_file'),
             getvariable('status_file')),
    coalesce(getvariable('groups_newline'), '\n'),
    longest := coalesce(getvariable('groups_max_line_size'), 1073741824)
)
WHERE getvariable('groups_file') IS NOT NULL;  -- none: no lines (the scan is planned away)

SET VARIABLE groups_layout = coalesce(
    getvariable('groups_columns'), {'store_id': 1, 'group': 2, 'fields': 2}
);

-- line numbers (see file_lines), the first rowid held as a constant
SET VARIABLE groups_first_rowid = (SELECT min(rowid) FROM group_lines);
CREATE OR REPLACE TEMP VIEW group_numbered AS
SELECT rowid - getvariable('groups_first_rowid') + 1 AS line, raw FROM group_lines;

CREATE OR REPLACE TEMP TABLE group_rows AS
WITH
records AS (
    SELECT *
    FROM csv_records('group_numbered', getvariable('groups_layout').fields,
                     coalesce(getvariable('groups_newline'), '\n'))
),
picked AS (
    SELECT
        line,
        raw,
        problem,
        problem_detail,
        strip_blanks(fields[getvariable('groups_layout').store_id]) AS store_id,
        strip_blanks(fields[getvariable('groups_layout').group]) AS group_name
    FROM records
),
-- the reason first, then its detail (a detail naming the reason's alias in the same SELECT
-- would copy its whole expression)
reasons AS (
    SELECT
        *,
        CASE
            WHEN problem IS NOT NULL THEN problem
            WHEN store_id_problem(store_id) IS NOT NULL THEN store_id_problem(store_id)
            WHEN group_name = '' THEN 'missing group'
            WHEN length(group_name) > group_max_length() THEN 'group too long'
            WHEN has_control_characters(group_name) THEN 'group has control characters'
        END AS reason
    FROM picked
),
final AS (
    SELECT
        line,
        raw,
        store_id,
        if(reason IS NULL, group_name, NULL) AS group_name,
        reason,
        coalesce(problem_detail, CASE reason
            WHEN 'missing store_id' THEN store_id_detail(store_id)
            WHEN 'store_id too long' THEN store_id_detail(store_id)
            WHEN 'missing group' THEN 'the group is empty: give a label such as owner:acme'
            WHEN 'group too long'
                THEN format('the group is {} characters long; a group has at most {}: "{}..."',
                            length(group_name), group_max_length(), left(group_name, 40))
            WHEN 'group has control characters'
                THEN format('group "{}" has control characters (shown as \xNN)',
                            shown_controls(group_name))
        END) AS detail
    FROM reasons
)
SELECT * FROM final;

DROP VIEW group_numbered;
DROP TABLE group_lines;
