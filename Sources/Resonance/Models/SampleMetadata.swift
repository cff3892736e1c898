/// The sample a run measures: one row of the `samples` table.
///
/// Writers reuse the row whose `name` matches; ``id`` is filled in when the writer opens.
///
/// ```swift
/// let sample = SampleMetadata(name: "PS", formula: "C8H8", tags: ["polymer"])
/// ```
public struct SampleMetadata: Sendable, Equatable {
    /// The sample's name; rows are matched by it.
    public var name: String
    /// Chemical formula, e.g. "C8H8".
    public var formula: String?
    /// Serial number or barcode of the sample holder position.
    public var serial: String?
    /// Free-form tags, stored as a JSON array of strings.
    public var tags: [String]
    /// Where the sample sits on the beamline's sample bar.
    public var beamlinePos: String?
    /// Anything else, stored as a JSON object.
    public var extra: JSONObject
    /// The row id in the beamtime database; nil until a writer has opened.
    public var id: Int64?

    public init(
        name: String, formula: String? = nil, serial: String? = nil, tags: [String] = [],
        beamlinePos: String? = nil, extra: JSONObject = [:], id: Int64? = nil
    ) {
        self.name = name
        self.formula = formula
        self.serial = serial
        self.tags = tags
        self.beamlinePos = beamlinePos
        self.extra = extra
        self.id = id
    }
}

/// How a run ended: `runs.exit_status`.
///
/// This writer records ``success``, ``aborted`` or ``failed``; other programs (the Python
/// writer accepts any string) may record others, which read back exactly as they are:
///
/// ```swift
/// switch run.exitStatus {
/// case .success?: print("done")
/// case nil: print("open")
/// case let other?: print(other.rawValue)   // e.g. "halted", written by another program
/// }
/// ```
public struct ExitStatus: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The text in the file.
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The plan finished.
    public static let success = ExitStatus(rawValue: "success")
    /// Someone stopped it.
    public static let aborted = ExitStatus(rawValue: "aborted")
    /// It ended by an error.
    public static let failed = ExitStatus(rawValue: "failed")

    /// The statuses this writer records.
    public static let known: [ExitStatus] = [.success, .aborted, .failed]

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// One row of the `runs` table, as listings show it.
public struct RunSummary: Sendable, Equatable {
    /// 32 lowercase hex digits.
    public var uid: String
    /// The scan plan, e.g. "nexafs".
    public var planName: String
    /// The sample's name, when the run has a sample.
    public var sampleName: String?
    /// Unix seconds.
    public var timeStart: Double
    /// Unix seconds; nil while the run is open (or its writer died).
    public var timeStop: Double?
    /// nil while the run is open (or its writer died); any other program's status as it was written.
    public var exitStatus: ExitStatus?
    /// Events written in the run, as recorded when it closed.
    public var numEvents: Int

    public init(
        uid: String, planName: String, sampleName: String?, timeStart: Double, timeStop: Double?,
        exitStatus: ExitStatus?, numEvents: Int
    ) {
        self.uid = uid
        self.planName = planName
        self.sampleName = sampleName
        self.timeStart = timeStart
        self.timeStop = timeStop
        self.exitStatus = exitStatus
        self.numEvents = numEvents
    }
}
