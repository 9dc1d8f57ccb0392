/** The Airlock agent: enrols, holds its signal connection and serves sessions on channels. */
package dev.airlock.agent;
