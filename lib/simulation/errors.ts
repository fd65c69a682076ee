/**
 * The simulation library's input errors. Each message names what is wrong and what is expected, so a task can show
 * it to the user as it is.
 */
export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
