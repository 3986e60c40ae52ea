/// Every command the lab knows, in the order `help` lists them within a topic.
public enum BuiltinCommands {
    public static var all: [Command] {
        [HelpCommand(), SetCommand(), ShowCommand(), QuitCommand(), ResetCommand(),
         TrainCommand(), TrainTokenizerCommand(), DistillCommand(), EvalCommand(),
         ModelsCommand(), PullCommand(), LoadCommand(), UnloadCommand(),
         UseCommand(), RmCommand(), CompareCommand(),
         CascadeCommand(),
         GenCommand(), ChatCommand(), ServeCommand(),
         TokensCommand(), InfoCommand(), LayersCommand(), TensorCommand(), NextCommand(), AttentionCommand(), LensCommand(),
         QuantCommand(), SampleCommand(),
         PplCommand(), KldCommand(), BenchCommand(), SynthCommand(),
         LessonsCommand(), LessonCommand(), OpenCommand(), SaveCommand()]
    }
}
