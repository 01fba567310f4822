"""The composition root: the `goals` command. It supervises the processes (`dev`, `serve`,
`worker`), wires the job queues of ``workers`` into the app of ``api``, and runs the operator
tasks that have no GraphQL mutation. The one package that may import all three layers."""
