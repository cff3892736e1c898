@main
struct Entry {
    static func main() { ResonanceCommand.main() }
}
