/** The keeper's router lives in lib/keeper (the bot and the simulation share it). */
export * from "../../lib/keeper/routing";
