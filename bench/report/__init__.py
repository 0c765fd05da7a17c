"""Result records, tables and file output."""
