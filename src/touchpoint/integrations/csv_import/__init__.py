"""CSV import of accounts, contacts and subscriptions: detect, map, check every row, then write all or nothing."""
