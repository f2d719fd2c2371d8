import JobQueue
// The job kinds this build knows. mscm-worker runs them; mscm-ctl submits them (its
// `submit <kind>` flags come from each handler's flag table). A new kind is a handler file in
// this folder and one line here.
public enum JobRegistry {
    public static let all: [any JobHandler.Type] = [
        SleepJob.self,
        TrainTeacherJob.self,
        DistillJob.self,
        TrainEvaluatorJob.self,
        EvaluateJob.self,
    ]

    public static func handler(for kind: String) -> (any JobHandler.Type)? {
        all.first { $0.kind == kind }
    }

    public static var kinds: [String] { all.map { $0.kind } }
}
