// The Zarr v3 layer: filled in by Sources/Zarr/*.swift.
