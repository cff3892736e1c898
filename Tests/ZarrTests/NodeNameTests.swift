import Testing
@testable import Zarr

@Suite struct NodeNameTests {
    @Test(arguments: ["ccd", "a.b", "...x", "x..", "_x", "a_", "Ünïcödé", "with space", "24b99aa4e6004110a26a6c288814f4bf", ".hidden"])
    func validNames(name: String) throws {
        try ZarrNodeName.validate(name)
        #expect(ZarrNodeName.isValid(name))
    }

    @Test(arguments: ["", ".", "..", "...", "a/b", "/", "__x", "__", "a\\b", "nul\0", "tab\t", "line\nbreak", "bell\u{7}",
                      "del\u{7F}", "bidi\u{202E}", "zw\u{200B}", "priv\u{E000}", "ls\u{2028}", String(repeating: "x", count: 256)])
    func invalidNames(name: String) {
        #expect(!ZarrNodeName.isValid(name))
        expectZarrError("invalidNodeName") { try ZarrNodeName.validate(name) }
    }

    @Test func paths() throws {
        let path = try ZarrNodePath("/runs/abc/ccd")
        #expect(path.names == ["runs", "abc", "ccd"])
        #expect(path.key == "runs/abc/ccd")
        #expect(path.description == "/runs/abc/ccd")
        #expect(path.parent?.key == "runs/abc")
        #expect(try ZarrNodePath("runs/abc") == path.parent)
        #expect(try ZarrNodePath("/").isRoot)
        #expect(try ZarrNodePath("").isRoot)
        #expect(ZarrNodePath.root.parent == nil)
        for bad in ["a//b", "a/", "a/../b", "../x", "/..", "a/./b", "a\\..\\b", "runs/__zarr"] {
            #expect(throws: ZarrError.self, "\(bad)") { try ZarrNodePath(bad) }
        }
        #expect(throws: ZarrError.self) { try path.appending("..") }
        #expect(try path.appending(path: "x/y").key == "runs/abc/ccd/x/y")
    }

    @Test func storeKeysCannotEscapeTheRoot() throws {
        try withTemporaryStore { store, _ in
            for key in ["../x", "a/../../x", "a//b", "/etc/passwd", "a/./b", "", "x\0y"] where !key.isEmpty {
                #expect(throws: ZarrError.self, "\(key)") { try store.set(key, [1]) }
                #expect(throws: ZarrError.self, "\(key)") { _ = try store.get(key) }
            }
            #expect(throws: ZarrError.self) { try store.deletePrefix("") }
        }
    }
}
