"""The batch plan lives in semot.storage.batch (the in-memory store runs it too);
re-exported here for the SQL appenders, which import it as `.batch`."""

from semot.storage.batch import REF_COLUMNS, ROW_COLUMNS, BatchPlan, InjectedFault, Key

__all__ = ["REF_COLUMNS", "ROW_COLUMNS", "BatchPlan", "InjectedFault", "Key"]
