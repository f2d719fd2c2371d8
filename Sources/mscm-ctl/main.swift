import CommandLineKit
import Foundation
import Jobs

// mscm-ctl: the command-line client. Each command lives in its own file as a `Command`;
// this list is the whole surface.
let commands: [Command] = [
    migrateCommand,
    datasetCommand,
    fidCommand,
    submitCommand,
    listCommand,
    workersCommand,
    statusCommand,
    watchCommand,
    historyCommand,
    logsCommand,
    cancelCommand,
    retryCommand,
    scheduleCommand,
    reportCommand,
    artifactsCommand,
    pruneCommand,
    figure1Command,
    trainTeacherCommand,
    sampleCommand,
]

exit(runCommandLine(program: "mscm-ctl",
                    about: "Drive mscm: multistep consistency distillation as a service.",
                    commands: commands,
                    arguments: Array(CommandLine.arguments.dropFirst())))
