// Event data, metadata and data_keys are JSONValue; callers should not need a second import.
@_exported import JSONValue
