fn main() -> std::process::ExitCode {
    iamx::cli::main()
}
