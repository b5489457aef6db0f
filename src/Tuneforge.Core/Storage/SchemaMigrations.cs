namespace Tuneforge.Core.Storage;

/// <summary>
/// Ordered schema steps, written for SQLite (PostgreSQL runs them through <see cref="PostgresDialect.Translate"/>); the
/// dialect records how many have run. Append new steps, never edit old ones; use only types the translation maps.
/// Times are Unix seconds, except lease expiry (Unix milliseconds). <c>seq</c> columns give a stable list order.
/// </summary>
internal static class SchemaMigrations
{
    public static readonly IReadOnlyList<string> Steps =
    [
        """
        CREATE TABLE organizations (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL);
        CREATE TABLE api_keys (
            key_hash TEXT PRIMARY KEY,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            created_at INTEGER NOT NULL);
        CREATE TABLE files (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            filename TEXT NOT NULL,
            purpose TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            path TEXT NOT NULL);
        CREATE INDEX files_by_org ON files(organization_id, seq);
        CREATE TABLE jobs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            model TEXT NOT NULL,
            base_model_dir TEXT NOT NULL,
            training_file TEXT NOT NULL,
            validation_file TEXT,
            suffix TEXT,
            seed INTEGER NOT NULL,
            method_type TEXT NOT NULL,
            requested_n_epochs INTEGER,
            requested_batch_size INTEGER,
            requested_learning_rate_multiplier REAL,
            n_epochs INTEGER,
            batch_size INTEGER,
            learning_rate_multiplier REAL,
            metadata TEXT,
            integrations TEXT,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            finished_at INTEGER,
            planned_model_name TEXT NOT NULL,
            fine_tuned_model TEXT,
            trained_tokens INTEGER,
            estimated_finish INTEGER,
            error_code TEXT,
            error_message TEXT,
            error_param TEXT,
            result_files TEXT NOT NULL DEFAULT '[]',
            lease_owner TEXT,
            lease_host TEXT,
            lease_pid INTEGER,
            lease_expires_at INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX jobs_by_org ON jobs(organization_id, seq);
        CREATE INDEX jobs_by_status ON jobs(status, seq);
        CREATE TABLE job_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            level TEXT NOT NULL,
            message TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT);
        CREATE INDEX job_events_by_job ON job_events(job_id, seq);
        CREATE TABLE checkpoints (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            step INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            model_id TEXT NOT NULL,
            directory TEXT NOT NULL,
            metrics TEXT NOT NULL);
        CREATE INDEX checkpoints_by_job ON checkpoints(job_id, step);
        CREATE TABLE models (
            id TEXT PRIMARY KEY,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            job_id TEXT NOT NULL,
            base_model TEXT NOT NULL,
            base_model_dir TEXT NOT NULL,
            adapter_dir TEXT NOT NULL,
            parent_id TEXT,
            created_at INTEGER NOT NULL);
        CREATE INDEX models_by_org ON models(organization_id);
        """,
        """
        CREATE TABLE uploads (
            id TEXT PRIMARY KEY,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            filename TEXT NOT NULL,
            purpose TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            mime_type TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            file_id TEXT);
        CREATE TABLE upload_parts (
            id TEXT PRIMARY KEY,
            upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            path TEXT NOT NULL);
        """,
        """
        CREATE TABLE connections (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            name TEXT NOT NULL,
            base_url TEXT NOT NULL,
            api_key_sealed BLOB NOT NULL,
            api_key_hint TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (organization_id, name));
        """,
        // Evals: result_counts are columns so a stored row adds to them in place; the per-criterion results and
        // per-model usage are small JSON arrays rewritten in the same transaction as the output item.
        """
        CREATE TABLE evals (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            name TEXT NOT NULL,
            metadata TEXT,
            data_source_config TEXT NOT NULL,
            testing_criteria TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);
        CREATE INDEX evals_by_org ON evals(organization_id, seq);
        CREATE TABLE eval_runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            eval_id TEXT NOT NULL REFERENCES evals(id) ON DELETE CASCADE,
            organization_id TEXT NOT NULL,
            name TEXT NOT NULL,
            model TEXT,
            metadata TEXT,
            data_source TEXT NOT NULL,
            rows TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            finished_at INTEGER,
            total INTEGER NOT NULL DEFAULT 0,
            errored INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            passed INTEGER NOT NULL DEFAULT 0,
            per_testing_criteria_results TEXT,
            per_model_usage TEXT,
            error_code TEXT,
            error_message TEXT,
            lease_owner TEXT,
            lease_host TEXT,
            lease_pid INTEGER,
            lease_expires_at INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX eval_runs_by_eval ON eval_runs(eval_id, seq);
        CREATE INDEX eval_runs_by_status ON eval_runs(status, seq);
        CREATE TABLE eval_output_items (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            run_id TEXT NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
            eval_id TEXT NOT NULL,
            datasource_item_id INTEGER NOT NULL,
            status TEXT NOT NULL,
            datasource_item TEXT NOT NULL,
            results TEXT NOT NULL,
            sample TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (run_id, datasource_item_id));
        CREATE INDEX eval_output_items_by_run ON eval_output_items(run_id, seq);
        """,
        """
        CREATE TABLE model_aliases (
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            alias TEXT NOT NULL,
            model_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (organization_id, alias));
        """,
        """
        CREATE TABLE review_sets (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            name TEXT NOT NULL,
            source TEXT NOT NULL,
            models TEXT NOT NULL,
            item_count INTEGER NOT NULL,
            metadata TEXT,
            created_at INTEGER NOT NULL);
        CREATE INDEX review_sets_by_org ON review_sets(organization_id, seq);
        CREATE TABLE review_items (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            set_id TEXT NOT NULL REFERENCES review_sets(id) ON DELETE CASCADE,
            item_index INTEGER NOT NULL,
            messages TEXT NOT NULL,
            answers TEXT NOT NULL,
            UNIQUE (set_id, item_index));
        CREATE TABLE reviews (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            set_id TEXT NOT NULL REFERENCES review_sets(id) ON DELETE CASCADE,
            item_id TEXT NOT NULL REFERENCES review_items(id) ON DELETE CASCADE,
            organization_id TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            choice TEXT NOT NULL,
            chosen_answer INTEGER,
            better_answer TEXT,
            revision INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (item_id, reviewer));
        CREATE INDEX reviews_by_set ON reviews(set_id, seq);
        """,
    ];
}
