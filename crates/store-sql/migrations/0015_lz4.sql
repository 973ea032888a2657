-- PostgreSQL only. A paper's row passes PostgreSQL's 2 KB threshold often
-- (long abstracts, many authors) and is then compressed; its default
-- compressor (pglz) was a quarter of the server's work in an import.
-- lz4 is several times faster and compresses these rows as well. Servers
-- before 14, or built without lz4, keep pglz.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        ALTER TABLE papers
            ALTER COLUMN abstract SET COMPRESSION lz4,
            ALTER COLUMN title SET COMPRESSION lz4,
            ALTER COLUMN authors SET COMPRESSION lz4,
            ALTER COLUMN comments SET COMPRESSION lz4,
            ALTER COLUMN versions SET COMPRESSION lz4,
            ALTER COLUMN code_links SET COMPRESSION lz4;
        ALTER TABLE paper_passages ALTER COLUMN text SET COMPRESSION lz4;
    END IF;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR syntax_error THEN
    RAISE NOTICE 'lz4 compression unavailable: papers stay with pglz';
END
$$;
