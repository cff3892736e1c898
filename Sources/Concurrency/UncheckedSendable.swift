/// Carries a value into a `@Sendable` closure where the caller guarantees what the compiler
/// cannot check: a buffer whose disjoint parts concurrent iterations write, or an object
/// only ever used by one thread at a time.
package struct UncheckedSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
