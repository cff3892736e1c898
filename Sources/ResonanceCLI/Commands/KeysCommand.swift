import ArgumentParser
import Foundation
import JSONValue
import ResonanceServer

/// `resonance keys add|list|remove`: the API keys of a served folder.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the API keys of `resonance serve`.",
        discussion: """
            A key is printed once, when it is made; only its SHA-256 and its name are stored, \
            in ROOT/.resonance-keys.json (readable by its owner only). A running server \
            picks up changes within a second. Clients send it as Authorization: Bearer <key>.

            Examples:
              resonance keys add recorder --root /data/beamtimes
              resonance keys list --root /data/beamtimes
              resonance keys remove recorder --root /data/beamtimes
            """,
        subcommands: [KeysAddCommand.self, KeysListCommand.self, KeysRemoveCommand.self]
    )
}

struct KeysRootOption: ParsableArguments {
    @Option(help: ArgumentHelp("The folder `resonance serve` serves.", valueName: "dir"))
    var root: String

    func store() throws -> KeyStore {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("--root \(root): not a folder")
        }
        return KeyStore(root: root)
    }
}

struct KeysAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Make a key and print it (once).")

    @Argument(help: "A name for the key (who or what uses it).")
    var name: String

    @OptionGroup var options: KeysRootOption

    func run() throws {
        let key = try options.store().add(name: name)
        print(key)
        FileHandle.standardError.write(Data("key \(name.debugDescription) added; it is shown only this once\n".utf8))
    }
}

struct KeysListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the keys' names (the keys are not stored).")

    @OptionGroup var options: KeysRootOption

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let entries = try options.store().list()
        if json {
            print(JSONValue.array(entries.map { ["name": .string($0.name), "created": .double($0.created)] }).jsonText)
            return
        }
        if entries.isEmpty {
            FileHandle.standardError.write(Data("no keys (resonance keys add NAME --root \(options.root))\n".utf8))
            return
        }
        let formatter = ISO8601DateFormatter()
        for entry in entries {
            print("\(entry.name)\t\(formatter.string(from: Date(timeIntervalSince1970: entry.created)))")
        }
    }
}

struct KeysRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a key: clients using it get 401.")

    @Argument(help: "The key's name.")
    var name: String

    @OptionGroup var options: KeysRootOption

    func run() throws {
        try options.store().remove(name: name)
        FileHandle.standardError.write(Data("key \(name.debugDescription) removed\n".utf8))
    }
}
